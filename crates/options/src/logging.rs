//! The logging options' value types: `log-format`, `log-file` and `log-file-max-size`.

use qnode_protocol::quote::clip;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// How log lines are written, on stderr and in the log file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// For people: time, level, target, message, fields.
    #[default]
    Text,
    /// For log shippers: one JSON object a line, with `timestamp`, `level`, `target`,
    /// `message` and the event's fields.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("{:?} is not `text` nor `json`", clip(other))),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// A log file's path, or `off`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LogFile {
    /// Logs go to stderr only.
    #[default]
    Off,
    /// Logs go to stderr and here.
    At(PathBuf),
}

impl LogFile {
    /// The file's path, a relative one taken within `config_dir`.
    pub fn path(&self, config_dir: &Path) -> Option<PathBuf> {
        match self {
            LogFile::Off => None,
            LogFile::At(path) => Some(config_dir.join(path)),
        }
    }
}

impl FromStr for LogFile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(LogFile::Off),
            "" => Err("an empty path: give a file's path, or `off`".into()),
            path => Ok(LogFile::At(PathBuf::from(path))),
        }
    }
}

impl fmt::Display for LogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogFile::Off => f.write_str("off"),
            LogFile::At(path) => path.display().fmt(f),
        }
    }
}

/// A size in bytes, written as a number of bytes or with a binary unit (`KiB`, `MiB`,
/// `GiB`; `K`, `M`, `G` mean the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

const UNITS: [(&str, &str, u64); 3] = [
    ("GiB", "G", 1 << 30),
    ("MiB", "M", 1 << 20),
    ("KiB", "K", 1 << 10),
];

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{:?} is not a size like 1048576, 512KiB or 100MiB", clip(s));
        let trimmed = s.trim();
        let (digits, factor) = UNITS
            .iter()
            .find_map(|&(long, short, factor)| {
                let number = trimmed
                    .strip_suffix(long)
                    .or_else(|| trimmed.strip_suffix(short))?;
                Some((number, factor))
            })
            .unwrap_or((trimmed.strip_suffix('B').unwrap_or(trimmed), 1));
        let number: u64 = digits.trim().parse().map_err(|_| bad())?;
        number.checked_mul(factor).map(ByteSize).ok_or_else(bad)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = UNITS
            .iter()
            .find(|&&(_, _, factor)| self.0 != 0 && self.0.is_multiple_of(factor));
        match unit {
            Some((name, _, factor)) => write!(f, "{}{name}", self.0 / factor),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_and_without_units_and_print_back_the_same() {
        for (text, bytes) in [
            ("1048576", 1 << 20),
            ("100MiB", 100 << 20),
            ("100M", 100 << 20),
            ("512KiB", 512 << 10),
            ("2 GiB", 2 << 30),
            ("1000B", 1000),
        ] {
            let size: ByteSize = text.parse().unwrap();
            assert_eq!(size.0, bytes, "{text}");
            assert_eq!(size.to_string().parse::<ByteSize>().unwrap(), size);
        }
        assert_eq!(ByteSize(100 << 20).to_string(), "100MiB");
        assert_eq!(ByteSize(1000).to_string(), "1000");
        for bad in [
            "",
            "MiB",
            "-1",
            "1.5MiB",
            "1TB",
            "99999999999999999999GiB",
            "1 2",
        ] {
            assert!(bad.parse::<ByteSize>().is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_and_files_read_as_written() {
        assert_eq!("json".parse::<LogFormat>().unwrap(), LogFormat::Json);
        assert!("JSON".parse::<LogFormat>().is_err());
        assert_eq!("off".parse::<LogFile>().unwrap(), LogFile::Off);
        assert!("".parse::<LogFile>().is_err());
        let file: LogFile = "logs/node.log".parse().unwrap();
        assert_eq!(
            file.path(Path::new("/var/lib/qnode")),
            Some(PathBuf::from("/var/lib/qnode/logs/node.log"))
        );
        let absolute: LogFile = "/var/log/qnode.log".parse().unwrap();
        assert_eq!(
            absolute.path(Path::new("/x")),
            Some(PathBuf::from("/var/log/qnode.log"))
        );
    }
}
