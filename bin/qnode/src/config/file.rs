//! `CONFIG_DIR/config.toml`: read at start; a mistake is reported with the file, the
//! line, the option and what to do — an unknown or misspelt option is an error, never
//! silently ignored.

use super::Settings;
use clap::Args;
use std::path::Path;

/// The file's name in the config directory.
pub const CONFIG_FILE: &str = "config.toml";

/// Every option the file may hold (the flags' long names).
pub fn known_options() -> Vec<String> {
    Settings::augment_args(clap::Command::new("qnode"))
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

/// The settings in `config_dir/config.toml`; none when there is no such file.
pub fn load(config_dir: &Path) -> anyhow::Result<Settings> {
    let path = config_dir.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(e) => anyhow::bail!("reading {}: {e}", path.display()),
    };
    parse(&text).map_err(|problem| anyhow::anyhow!("{}{problem}", path.display()))
}

/// Parses a config file's text; the error reads after the file's name.
pub fn parse(text: &str) -> Result<Settings, String> {
    let document = toml::Deserializer::parse(text).map_err(|e| describe(text, &e, None))?;
    serde_path_to_error::deserialize(document).map_err(|e| {
        let field = e.path().to_string();
        describe(text, e.inner(), Some(field))
    })
}

/// Turns toml's error into one naming the line, the option, the value and a fix.
fn describe(text: &str, error: &toml::de::Error, field: Option<String>) -> String {
    let line_number = error.span().map(|span| {
        let before = &text.as_bytes()[..span.start.min(text.len())];
        before.iter().filter(|b| **b == b'\n').count() + 1
    });
    let line_text = line_number
        .and_then(|n| text.lines().nth(n - 1))
        .map(str::trim)
        .unwrap_or_default();
    let at = line_number.map_or_else(String::new, |n| format!(" line {n}"));
    let message = error.message().trim();
    if let Some(unknown) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    {
        let known = known_options();
        let suggestion = known
            .iter()
            .map(|k| (strsim::jaro_winkler(unknown, k), k))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map_or_else(String::new, |(_, k)| format!(" — did you mean `{k}`?"));
        return format!(
            "{at}: unknown option `{unknown}`{suggestion}\n  fix: correct or delete the line; \
             the options are: {}",
            known.join(", ")
        );
    }
    match field.filter(|f| !f.is_empty() && f != ".") {
        Some(field) => format!(
            "{at}: `{line_text}`: bad value for `{field}`: {message}\n  fix: correct the value \
             or delete the line for the default (`qnode run --help` describes --{field})"
        ),
        None => format!("{at}: `{line_text}`: {message}\n  fix: this is not valid TOML there"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_option_is_named_with_its_line_and_a_suggestion() {
        let error = parse("devnet = true\n\nhttp-lisen = \"127.0.0.1:1\"\n")
            .map(|_| ())
            .unwrap_err();
        assert!(
            error.starts_with(" line 3: unknown option `http-lisen`"),
            "{error}"
        );
        assert!(error.contains("did you mean `http-listen`?"), "{error}");
    }

    #[test]
    fn a_bad_value_is_named_with_its_option_and_line() {
        let error = parse("workers = 2\ngrpc-listen = \"somewhere\"\n")
            .map(|_| ())
            .unwrap_err();
        assert!(
            error.starts_with(" line 2: `grpc-listen = \"somewhere\"`"),
            "{error}"
        );
        assert!(error.contains("bad value for `grpc-listen`"), "{error}");
        let error = parse("bootstrap = [\"/ip4/1.2.3.4/tcp/1\", \"nonsense\"]")
            .map(|_| ())
            .unwrap_err();
        assert!(error.contains("bad value for `bootstrap`"), "{error}");
        assert!(error.contains("\"nonsense\""), "{error}");
    }

    proptest::proptest! {
        /// Whatever an operator writes is read or refused with a fix, never a panic.
        #[test]
        fn any_file_is_read_or_refused(
            text in "((devnet|workers|listen|htp-listen|genesis-seed|[a-zé-]{1,12}) ?= ?\
                      (\"[^\"\n]{0,12}\"|-?[0-9]{1,22}|true|\\[.{0,12}\\]|.{0,8})\n){0,6}"
        ) {
            let checked = parse(&text).and_then(|s| s.resolve().map_err(|e| e.to_string()));
            if let Err(message) = checked {
                proptest::prop_assert!(message.contains("fix:"), "{}", message);
            }
        }
    }

    #[test]
    fn values_read_as_their_flags_read_them() {
        let s = parse(
            "listen = [\"/ip4/127.0.0.1/tcp/9\"]\nhttp-listen = \"off\"\ngenesis-seed = \"0x0102\"\n",
        )
        .unwrap();
        assert_eq!(s.listen[0].to_string(), "/ip4/127.0.0.1/tcp/9");
        assert_eq!(s.http_listen, Some(crate::config::Endpoint::Off));
        assert_eq!(s.genesis_seed.unwrap().0, vec![1, 2]);
    }
}
