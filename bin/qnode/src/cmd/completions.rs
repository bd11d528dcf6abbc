//! `qnode completions SHELL` and `qnode man`: the command line's description, rendered
//! for a shell's completion or as a roff man page, on stdout.

use anyhow::{Context, Result};
use clap::Args;
use clap_complete::Shell;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell. Install e.g. with `qnode
    /// completions bash > /etc/bash_completion.d/qnode`, or `source <(qnode completions
    /// bash)` in ~/.bashrc.
    shell: Shell,
}

impl CompletionsArgs {
    pub fn run(self, mut cli: clap::Command) -> Result<ExitCode> {
        let name = cli.get_name().to_owned();
        let mut out = Vec::new();
        clap_complete::generate(self.shell, &mut cli, name, &mut out);
        write_stdout(&out)
    }
}

#[derive(Args)]
pub struct ManArgs {
    /// Write qnode.1 and a page for each command (qnode-run.1, …) into this directory
    /// instead of printing qnode.1; e.g. `qnode man --out-dir /usr/local/share/man/man1`.
    #[arg(long)]
    out_dir: Option<PathBuf>,
}

impl ManArgs {
    pub fn run(self, cli: clap::Command) -> Result<ExitCode> {
        match self.out_dir {
            Some(dir) => {
                clap_mangen::generate_to(cli, &dir)
                    .with_context(|| format!("writing man pages into {}", dir.display()))?;
                Ok(ExitCode::SUCCESS)
            }
            None => {
                let mut out = Vec::new();
                clap_mangen::Man::new(cli)
                    .render(&mut out)
                    .context("rendering the man page")?;
                write_stdout(&out)
            }
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `qnode man | head` closes the pipe early: not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("writing to stdout"),
    }
}
