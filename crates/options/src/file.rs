//! `CONFIG_DIR/config.toml`: read at start; a mistake is reported with the file, the
//! line, the option and what to do — an unknown or misspelt option is an error, never
//! silently ignored.

use super::Settings;
use clap::Args;
use qnode_protocol::quote::clip;
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

/// The most a config file may hold: far more than every option with its help.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The settings in `config_dir/config.toml`; none when there is no such file.
pub fn load(config_dir: &Path) -> anyhow::Result<Settings> {
    let path = config_dir.join(CONFIG_FILE);
    match read_bounded(&path)? {
        Some(text) => {
            parse(&text).map_err(|problem| anyhow::anyhow!("{}{problem}", path.display()))
        }
        None => Ok(Settings::default()),
    }
}

/// The text of the config file at `path` (none when there is none): a regular file of at
/// most [`MAX_CONFIG_BYTES`], read as `qnode_files` reads every operator file.
pub fn read_bounded(path: &Path) -> anyhow::Result<Option<String>> {
    use qnode_files::FileError;
    let refuse =
        |what: &str, fix: &str| anyhow::anyhow!("{}: {what}\n  fix: {fix}", path.display());
    let bytes = match qnode_files::read_regular(path, MAX_CONFIG_BYTES) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(FileError::NotRegular(kind)) => {
            return Err(refuse(
                &format!(
                    "the config file is {kind} (following links); qnode reads only a regular \
                     file"
                ),
                "make it a regular file, or remove it to start from the defaults",
            ))
        }
        Err(FileError::TooLarge { len, .. }) => {
            return Err(refuse(
                &format!(
                    "the config file is {len} bytes or more; at most {MAX_CONFIG_BYTES} bytes \
                     (1 MiB) are read"
                ),
                "keep only the options you change (`qnode init` in an empty directory writes \
                 every option with its help in about 10 KiB)",
            ))
        }
        Err(FileError::Io(e)) => anyhow::bail!("reading {}: {e}", path.display()),
    };
    String::from_utf8(bytes).map(Some).map_err(|e| {
        refuse(
            &format!(
                "the config file is not UTF-8 text (bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            "save it as UTF-8",
        )
    })
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
    let line_text = clip(
        line_number
            .and_then(|n| text.lines().nth(n - 1))
            .map(str::trim)
            .unwrap_or_default(),
    );
    let at = line_number.map_or_else(String::new, |n| format!(" line {n}"));
    let full_message = error.message().trim();
    if let Some(unknown) = full_message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    {
        let known = known_options();
        // No option is this long: a long name is not a misspelling (and comparing
        // megabytes with every option would take long).
        let suggestion = known
            .iter()
            .filter(|_| unknown.len() <= 64)
            .map(|k| (strsim::jaro_winkler(unknown, k), k))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map_or_else(String::new, |(_, k)| format!(" — did you mean `{k}`?"));
        return format!(
            "{at}: unknown option `{}`{suggestion}\n  fix: correct or delete the line; \
             the options are: {}",
            clip(unknown),
            known.join(", ")
        );
    }
    let message = clip(full_message);
    match field.filter(|f| !f.is_empty() && f != ".") {
        Some(field) => {
            let field = clip(&field);
            format!(
                "{at}: `{line_text}`: bad value for `{field}`: {message}\n  fix: correct the \
                 value or delete the line for the default (`qnode run --help` describes \
                 --{field})"
            )
        }
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

    /// `read_bounded` on another thread: a FIFO read by mistake would block it forever.
    fn read_soon(path: &Path) -> anyhow::Result<Option<String>> {
        let path = path.to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(read_bounded(&path));
        });
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("read_bounded returned within 10 s")
    }

    #[test]
    fn only_a_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        assert!(read_soon(&path).unwrap().is_none(), "no file: the defaults");

        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let error = read_soon(&path).unwrap_err().to_string();
        assert!(
            error.contains("the config file is a character device (following links)"),
            "{error}"
        );
        assert!(error.contains("fix: make it a regular file"), "{error}");
        std::fs::remove_file(&path).unwrap();

        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let error = read_soon(&path).unwrap_err().to_string();
        assert!(error.contains("is a named pipe (FIFO)"), "{error}");
        std::fs::remove_file(&path).unwrap();

        std::fs::create_dir(&path).unwrap();
        let error = read_soon(&path).unwrap_err().to_string();
        assert!(error.contains("is a directory"), "{error}");
        std::fs::remove_dir(&path).unwrap();

        // A link to a regular file is followed.
        let target = dir.path().join("elsewhere.toml");
        std::fs::write(&target, "workers = 3\n").unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert_eq!(read_soon(&path).unwrap().unwrap(), "workers = 3\n");
    }

    #[test]
    fn a_file_over_one_mib_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        // Exactly 1 MiB (comments and one option) is read ...
        let mut text = String::from("workers = 3\n");
        while text.len() < MAX_CONFIG_BYTES as usize {
            let left = MAX_CONFIG_BYTES as usize - text.len();
            let line = match left {
                1 => "\n".to_string(),
                _ => format!("#{}\n", "c".repeat(left.min(80) - 2)),
            };
            text.push_str(&line);
        }
        assert_eq!(text.len() as u64, MAX_CONFIG_BYTES);
        std::fs::write(&path, &text).unwrap();
        assert_eq!(load(dir.path()).unwrap().workers, Some(3));
        // ... one byte more is not.
        text.push('#');
        std::fs::write(&path, &text).unwrap();
        let error = load(dir.path()).map(|_| ()).unwrap_err().to_string();
        assert!(
            error.contains("the config file is 1048577 bytes or more; at most 1048576 bytes"),
            "{error}"
        );
    }

    #[test]
    fn a_file_whose_size_is_unknown_is_read_no_further_than_the_limit() {
        // /proc files say they are empty regular files, then yield their contents: the
        // size check passes and only the bounded read stops a long one.
        let long = ["/proc/kallsyms", "/proc/self/smaps"]
            .into_iter()
            .map(Path::new)
            .find(|p| {
                std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() == 0)
                    && std::fs::read(p).is_ok_and(|b| b.len() as u64 > MAX_CONFIG_BYTES)
            });
        let Some(long) = long else {
            eprintln!("no /proc file over 1 MiB here; nothing to check");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::os::unix::fs::symlink(long, &path).unwrap();
        let error = read_soon(&path).unwrap_err().to_string();
        assert!(error.contains("is 1048577 bytes or more"), "{error}");
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_in_words() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), b"workers = 3\n\xff\n").unwrap();
        let error = load(dir.path()).map(|_| ()).unwrap_err().to_string();
        assert!(
            error.contains("not UTF-8 text (bad byte at offset 12)"),
            "{error}"
        );
    }

    #[test]
    fn long_input_is_quoted_at_most_200_bytes() {
        // A 10 MB unknown option: its name is cut, and no suggestion is sought.
        let key = "k".repeat(10_000_000);
        let error = parse(&format!("{key} = 1\n")).map(|_| ()).unwrap_err();
        assert!(error.len() < 1_000, "{} bytes", error.len());
        assert!(
            error.starts_with(&format!(
                " line 1: unknown option `{}… (10000000 bytes)`\n",
                "k".repeat(200)
            )),
            "{}",
            clip(&error)
        );
        // A long bad value: the quoted line and the message are cut.
        let value = "é".repeat(300_000);
        let error = parse(&format!("grpc-listen = \"{value}\"\n"))
            .map(|_| ())
            .unwrap_err();
        assert!(error.len() < 1_000, "{} bytes", error.len());
        assert!(error.contains("bad value for `grpc-listen`"), "{error}");
        assert!(error.contains("… (600016 bytes)"), "{error}");
        let error = parse(&format!("bootstrap = [\"{value}\"]\n"))
            .map(|_| ())
            .unwrap_err();
        assert!(error.len() < 1_000, "{} bytes", error.len());
        assert!(error.contains("bad value for `bootstrap`"), "{error}");
    }

    #[test]
    fn values_read_as_their_flags_read_them() {
        let s = parse(
            "listen = [\"/ip4/127.0.0.1/tcp/9\"]\nhttp-listen = \"off\"\ngenesis-seed = \"0x0102\"\n",
        )
        .unwrap();
        assert_eq!(s.listen[0].to_string(), "/ip4/127.0.0.1/tcp/9");
        assert_eq!(s.http_listen, Some(crate::Endpoint::Off));
        assert_eq!(s.genesis_seed.unwrap().0, vec![1, 2]);
    }
}
