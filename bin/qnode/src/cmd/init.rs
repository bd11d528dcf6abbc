//! `qnode init`: a new node directory — an identity key (mode 0600) and a commented
//! `config.toml` with every default — ready for `qnode run`.

use crate::config::{file::CONFIG_FILE, template, ConfigDir};
use anyhow::{bail, Context, Result};
use clap::Args;
use qnode_p2p::IDENTITY_FILE;
use std::io::Write;
use std::process::ExitCode;

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    dir: ConfigDir,
}

impl InitArgs {
    pub fn run(self) -> Result<ExitCode> {
        let dir = self.dir.path()?;
        for existing in [IDENTITY_FILE, CONFIG_FILE] {
            if dir.join(existing).exists() {
                bail!(
                    "{} already exists: {} already holds a node, and init never replaces its \
                     key or configuration. Start it with `qnode run --config-dir {}`, or choose \
                     another --config-dir for a new node.",
                    dir.join(existing).display(),
                    dir.display(),
                    dir.display()
                );
            }
        }
        let text = template::render()?;
        let key = qnode_p2p::create_identity(&dir)?;
        let path = dir.join(CONFIG_FILE);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
        let shown = dir.display();
        println!("new node in {shown}");
        println!("  peer id  {}", key.public().to_peer_id());
        println!(
            "  key      {} (keep it private; back it up)",
            dir.join(IDENTITY_FILE).display()
        );
        println!("  config   {} (every option, commented)", path.display());
        println!();
        println!("start it:        qnode run --config-dir {shown}");
        println!("then look:       qnode status --config-dir {shown}");
        println!(
            "dashboard:       http://127.0.0.1:{}/   node API: 127.0.0.1:{}",
            template::HTTP_PORT,
            template::API_PORT
        );
        Ok(ExitCode::SUCCESS)
    }
}
