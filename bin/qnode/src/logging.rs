//! Where log lines go: stderr always, and a size-rotated file when `log-file` is set, as
//! text or JSON lines; `QNODE_LOG` filters both. The last warnings are also kept for the
//! status and the dashboard.

use anyhow::{Context, Result};
use qnode_files::{kind_of, FileError::NotRegular};
use qnode_operator::recent_warnings::{RecentWarnings, WarningLayer};
use qnode_options::{ByteSize, LogFormat};
use qnode_services::data_workers::LogRelay;
use rolling_file::{BasicRollingFileAppender, RollingConditionBasic};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::writer::MutexGuardWriter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Layered, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// What is logged when `QNODE_LOG` is not set.
const DEFAULT_FILTER: &str = "info,libp2p_kad=error";

type Boxed = Box<dyn Layer<Layered<EnvFilter, Registry>> + Send + Sync>;

/// A log file rotated by size.
#[derive(Clone, Debug)]
pub struct LogFileSettings {
    /// The file written; older ones are `PATH.1` (newest) to `PATH.(max_files − 1)`.
    pub path: PathBuf,
    /// A new file is started once the current one reaches this size.
    pub max_size: ByteSize,
    /// Files kept, the current one included.
    pub max_files: u32,
}

/// What a process logs through, once [`init`] set it up.
pub struct Logs {
    /// The last warnings, for the status and the dashboard.
    pub warnings: Arc<RecentWarnings>,
    /// Writes another process's finished log lines (its data workers') where this
    /// process's own go: stderr, and the log file between two of its own lines.
    pub relay: LogRelay,
}

/// The log file, written by this process's log layer and by the relay of its workers'
/// lines, one whole line at a time under one lock.
#[derive(Clone)]
struct SharedFile(Arc<Mutex<BasicRollingFileAppender>>);

impl<'a> MakeWriter<'a> for SharedFile {
    type Writer = MutexGuardWriter<'a, BasicRollingFileAppender>;

    fn make_writer(&'a self) -> Self::Writer {
        self.0.as_ref().make_writer()
    }
}

/// Logs to stderr, and to `file` (from [`open`]) if given, in `format`.
pub fn init(format: LogFormat, file: Option<BasicRollingFileAppender>) -> Logs {
    // Colours only for a person at a terminal; pipes and files get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let file = file.map(|writer| SharedFile(Arc::new(Mutex::new(writer))));
    let mut layers = vec![layer(format, std::io::stderr, ansi)];
    layers.extend(file.clone().map(|writer| layer(format, writer, false)));
    let relay = LogRelay(Arc::new(move |line: &str| {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
        if let Some(file) = &file {
            let _ = writeln!(file.make_writer(), "{line}");
        }
    }));
    let warnings = Arc::new(RecentWarnings::default());
    let filter =
        EnvFilter::try_from_env("QNODE_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layers)
        .with(WarningLayer(warnings.clone()))
        .try_init();
    Logs { warnings, relay }
}

fn layer<W>(format: LogFormat, writer: W, ansi: bool) -> Boxed
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let text = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => text.boxed(),
        LogFormat::Json => text.json().flatten_event(true).boxed(),
    }
}

/// Opens the log file for appending, refusing anything but a regular file (a FIFO would
/// block the start until someone reads it; a directory cannot be written).
pub fn open(settings: &LogFileSettings) -> Result<BasicRollingFileAppender> {
    let path = &settings.path;
    let fix = "set log-file to a regular file's path, or `off`";
    check_is_file(path).with_context(|| format!("log-file {}: {fix}", path.display()))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {} for log-file: {fix}", parent.display()))?;
    }
    let condition = RollingConditionBasic::new().max_size(settings.max_size.0);
    // Rotation keeps PATH.1 … PATH.n besides PATH (at least PATH.1). A zero-sized buffer
    // writes each line as it is logged: none is lost to a crash.
    let rotated = settings.max_files.saturating_sub(1).max(1) as usize;
    BasicRollingFileAppender::new_with_buffer_capacity(path, condition, rotated, 0)
        .with_context(|| format!("opening log-file {}: {fix}", path.display()))
}

fn check_is_file(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(NotRegular(kind_of(meta.file_type())).into()),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}
