//! Reading the files an operator owns (config, node key, KZG setup, self-test report).
//!
//! Any of them may be replaced by something odd: a link to `/dev/zero`, a FIFO that
//! blocks whoever opens it, a directory, a file far larger than it should be. Only a
//! regular file of at most a given size is read. The file's metadata is checked before it
//! is opened; it is opened without blocking (so a FIFO swapped in after that check cannot
//! hang the reader) and checked again; and at most one byte past the limit is read, so a
//! file that grows meanwhile is refused too.

use std::fs::{File, FileType, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// A directory, FIFO, device or socket.
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    /// Over the size limit.
    #[error("it is {len} bytes or more; at most {max} bytes are read")]
    TooLarge {
        /// Its size as seen (at least).
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The system refused (permissions, I/O).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The bytes of the regular file at `path`, at most `max` of them; `None` when there is no
/// file there.
pub fn read_regular(path: &Path, max: u64) -> Result<Option<Vec<u8>>, FileError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    check(meta.file_type(), meta.len(), max)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)?;
    let opened = file.metadata()?;
    check(opened.file_type(), opened.len(), max)?;
    read_at_most(file, max).map(Some)
}

/// Replaces the file at `path` with `bytes`, whole or not at all: they are written to
/// `path.partial` (first removed, whatever a crash or anyone left there), flushed, and
/// renamed over `path`. Renaming never opens what it replaces, so a FIFO put at `path`
/// cannot block the writer.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = partial_of(path);
    match std::fs::remove_file(&partial) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&partial, path));
    if written.is_err() {
        // A full disk, say: leave nothing half-written behind.
        let _ = std::fs::remove_file(&partial);
    }
    written?;
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}

fn partial_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn check(file_type: FileType, len: u64, max: u64) -> Result<(), FileError> {
    if !file_type.is_file() {
        return Err(FileError::NotRegular(kind_of(file_type)));
    }
    if len > max {
        return Err(FileError::TooLarge { len, max });
    }
    Ok(())
}

fn read_at_most(file: File, max: u64) -> Result<Vec<u8>, FileError> {
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    let len = bytes.len() as u64;
    if len > max {
        return Err(FileError::TooLarge { len, max });
    }
    Ok(bytes)
}

/// What a file that is not a regular file is, in words.
pub fn kind_of(file_type: FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a named pipe (FIFO)"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "a regular file"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_limit_are_read_and_missing_ones_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        assert!(read_regular(&path, 10).unwrap().is_none());
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_regular(&path, 10).unwrap().unwrap(), b"0123456789");
        let err = read_regular(&path, 9).unwrap_err();
        assert!(
            matches!(err, FileError::TooLarge { len: 10, max: 9 }),
            "{err}"
        );
    }

    #[test]
    fn a_write_replaces_whatever_was_there_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
        nix::unistd::mkfifo(&partial_of(&path), nix::sys::stat::Mode::S_IRWXU).unwrap();
        write_replacing(&path, b"first").unwrap();
        write_replacing(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "nothing left beside it");
    }

    #[test]
    fn odd_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let odd = [
            (fifo.as_path(), "a named pipe (FIFO)"),
            (dir.path(), "a directory"),
            (Path::new("/dev/zero"), "a character device"),
        ];
        for (path, kind) in odd {
            let err = read_regular(path, 1 << 20).unwrap_err();
            assert!(
                matches!(err, FileError::NotRegular(k) if k == kind),
                "{err}"
            );
        }
    }
}
