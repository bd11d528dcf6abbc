//! `qnode self-test`: measure (or reuse the stored measurements of) this machine.

use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use qnode_options::ConfigDir;
use qnode_prover::{kzg_setup, self_test};
use std::process::ExitCode;

#[derive(Args)]
pub struct SelfTestArgs {
    #[command(flatten)]
    dir: ConfigDir,
    /// Run again even if a report for this machine, version and setup exists.
    #[arg(long)]
    force: bool,
    /// Master clock difficulty to measure.
    #[arg(long, default_value_t = qnode_protocol::frame::DEFAULT_DIFFICULTY,
          value_parser = clap::value_parser!(u32).range(1..))]
    difficulty: u32,
    /// Refuse to generate a local setup when the config directory has none.
    #[arg(long)]
    no_generate: bool,
}

impl SelfTestArgs {
    pub fn run(self) -> Result<ExitCode> {
        let config_dir = self.dir.path()?;
        let generate = (!self.no_generate).then_some(kzg_setup::DEVNET_POWERS);
        if !config_dir.join(kzg_setup::SETUP_FILE).exists() && generate.is_some() {
            eprintln!(
                "no KZG setup in {}: generating a local, single-party setup (devnet only)",
                config_dir.display()
            );
        }
        let setup = kzg_setup::load(&config_dir, generate)?;
        let fingerprint = self_test::Fingerprint::current(self.difficulty, &setup.hash);
        let report = match self_test::load_current(&config_dir, &fingerprint) {
            Some(report) if !self.force => {
                eprintln!("reusing the stored self-test (same machine, version and setup)");
                report
            }
            _ => {
                let bar = ProgressBar::new(1).with_style(
                    ProgressStyle::with_template("{msg:>32} [{bar:20}] {pos}/{len}")
                        .expect("static template")
                        .progress_chars("=> "),
                );
                let report = self_test::run(
                    &config_dir,
                    fingerprint,
                    &setup.ceremony.setup,
                    |step, done, total| {
                        bar.set_message(step.to_string());
                        bar.set_length(total as u64);
                        bar.set_position(done as u64);
                    },
                )?;
                bar.finish_and_clear();
                report
            }
        };
        outln!("{}", serde_json::to_string_pretty(&report)?);
        Ok(ExitCode::SUCCESS)
    }
}
