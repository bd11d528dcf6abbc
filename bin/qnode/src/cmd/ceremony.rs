//! `qnode ceremony …`: powers-of-tau setups for KZG. The format is in `docs/kzg.md`.

use anyhow::{Context, Result};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use qnode_kzg::{Ceremony, Stage};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CeremonyCommand {
    /// Start a setup from a fresh secret (never written anywhere).
    Init {
        /// G1 powers: 16, 128 or 1024 (the largest domain the proof loop can use).
        #[arg(long, default_value_t = 1024)]
        powers: usize,
        /// Where to write the setup.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a setup, then re-randomize it with your own fresh secret.
    Contribute {
        /// The setup to extend.
        #[arg(long = "in")]
        input: PathBuf,
        /// Where to write the extended setup.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check every contribution and the consistency of all powers.
    Verify {
        /// The setup file.
        file: PathBuf,
    },
}

impl CeremonyCommand {
    pub fn run(self) -> Result<ExitCode> {
        match self {
            CeremonyCommand::Init { powers, out } => {
                let spinner = spinner("generating powers and Lagrange points");
                let ceremony = Ceremony::init(powers)?;
                spinner.finish_and_clear();
                write_new(&out, &ceremony)?;
                outln!("wrote {} ({powers} powers, 1 contribution)", out.display());
            }
            CeremonyCommand::Contribute { input, out } => {
                let ceremony = read_verified(&input)?;
                let spinner = spinner("contributing: re-randomizing every power");
                let ceremony = ceremony.contribute()?;
                spinner.finish_and_clear();
                write_new(&out, &ceremony)?;
                outln!(
                    "wrote {} ({} contributions); your secret was never stored",
                    out.display(),
                    ceremony.contributions.len()
                );
            }
            CeremonyCommand::Verify { file } => match read_verified(&file) {
                Ok(ceremony) => outln!(
                    "valid: {} powers, {} contributions",
                    ceremony.setup.powers(),
                    ceremony.contributions.len()
                ),
                Err(e) => {
                    outln!("invalid");
                    eprintln!("{e:#}");
                    return Ok(ExitCode::FAILURE);
                }
            },
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn spinner(message: &'static str) -> ProgressBar {
    let s = ProgressBar::new_spinner().with_message(message);
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s
}

/// Reads and fully verifies a setup, with a progress bar per stage.
pub fn read_verified(path: &Path) -> Result<Ceremony> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let bar = ProgressBar::new(1).with_style(
        ProgressStyle::with_template("{msg:>28} [{bar:30}] {pos}/{len}")
            .expect("static template")
            .progress_chars("=> "),
    );
    let ceremony = Ceremony::verify_bytes(&bytes, |stage, done, total| {
        bar.set_message(match stage {
            Stage::Decode => "decoding points",
            Stage::Contributions => "checking contributions",
            Stage::Powers => "checking powers",
            Stage::Lagrange => "checking Lagrange points",
        });
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    ceremony.with_context(|| format!("{} is not a valid setup", path.display()))
}

/// Writes via a temporary file and a rename, refusing to overwrite.
fn write_new(path: &Path, ceremony: &Ceremony) -> Result<()> {
    anyhow::ensure!(
        !path.exists(),
        "{} exists; choose another --out",
        path.display()
    );
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, ceremony.to_bytes())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}
