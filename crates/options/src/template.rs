//! The `config.toml` that `qnode init` writes: every option with its help and default,
//! commented out, so the file documents itself and uncommenting a line changes nothing
//! until its value is edited. Only the few options a new node needs are set.

use super::{Endpoint, Settings};
use anyhow::Result;
use clap::Args;
use std::fmt::Write;
use std::net::{Ipv4Addr, SocketAddr};

/// The ports `qnode init` gives the node API and the dashboard (the original's gRPC and
/// REST ports), so an operator has fixed addresses to bookmark.
pub const API_PORT: u16 = 8337;
/// See [`API_PORT`].
pub const HTTP_PORT: u16 = 8338;

/// What a new node starts with: a devnet (qnode cannot join mainnet) with the dashboard
/// and the node API on fixed local ports.
pub fn starter() -> Settings {
    let local = |port| Some(Endpoint::At(SocketAddr::from((Ipv4Addr::LOCALHOST, port))));
    Settings {
        devnet: Some(true),
        http_listen: local(HTTP_PORT),
        grpc_listen: local(API_PORT),
        ..Settings::default()
    }
}

const HEADER: &str = "\
# qnode configuration, written by `qnode init`.
#
# Every option is listed with its help and its default. A line starting with `#` keeps
# the default; remove the `#` and edit the value to change it. Each option is also a
# flag of `qnode run` (--NAME) and an environment variable (QNODE_NAME, `_` for `-`): a
# flag beats the environment, which beats this file. Unknown names are errors.
";

fn comment(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + word.len() + 1 > 88 {
            let _ = writeln!(out, "{line}");
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    let _ = writeln!(out, "{line}");
}

/// The options a new node sets; the rest stay commented.
pub const STARTER_KEYS: [&str; 3] = ["devnet", "http-listen", "grpc-listen"];

/// The file's text for a new node.
pub fn render() -> Result<String> {
    render_with(&starter(), &STARTER_KEYS)
}

/// The file's text with the options named in `keys` set to their values in `given`
/// (resolved, so the file says exactly what the node will run with); the rest commented.
pub fn render_with(given: &Settings, keys: &[&str]) -> Result<String> {
    let as_table =
        |s: Settings| -> Result<toml::Table> { Ok(toml::Table::try_from(s.resolve()?)?) };
    let set = as_table(given.clone())?;
    let devnet = as_table(Settings {
        devnet: Some(true),
        ..Settings::default()
    })?;
    let real = as_table(Settings {
        devnet: Some(false),
        ..Settings::default()
    })?;
    let mut out = String::from(HEADER);
    for arg in Settings::augment_args(clap::Command::new("qnode")).get_arguments() {
        let Some(key) = arg.get_long() else { continue };
        let (Some(dev), Some(live)) = (devnet.get(key), real.get(key)) else {
            continue;
        };
        out.push('\n');
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        // clap drops a one-sentence help's final full stop.
        let full_stop = if help.ends_with('.') { "" } else { "." };
        comment(&mut out, &format!("{help}{full_stop}"));
        if key == "devnet" {
            comment(&mut out, &format!("Default: {live}."));
        } else if dev != live {
            comment(
                &mut out,
                &format!("Default: {dev} on a devnet, {live} otherwise."),
            );
        }
        match set.get(key).filter(|_| keys.contains(&key)) {
            Some(value) => {
                let _ = writeln!(out, "{key} = {value}");
            }
            None => {
                let _ = writeln!(out, "# {key} = {dev}");
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::file::parse;

    #[test]
    fn the_template_loads_as_the_starter_settings() {
        let loaded = parse(&render().unwrap()).unwrap().resolve().unwrap();
        assert_eq!(loaded, starter().resolve().unwrap());
        assert!(loaded.devnet);
        assert_eq!(loaded.grpc_listen.to_string(), "127.0.0.1:8337");
    }

    #[test]
    fn uncommenting_every_default_changes_nothing() {
        let text = render().unwrap();
        let uncommented: String = text
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest)
                    if rest
                        .split_once(" = ")
                        .is_some_and(|(k, _)| !k.contains(' ')) =>
                {
                    rest
                }
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let set_lines = |t: &str| {
            t.lines()
                .filter(|l| l.contains(" = ") && !l.starts_with('#'))
                .count()
        };
        assert_eq!(set_lines(&uncommented), crate::file::known_options().len());
        let loaded = parse(&uncommented).unwrap().resolve().unwrap();
        assert_eq!(loaded, starter().resolve().unwrap());
    }
}
