//! What commands print for their reader. `println!` panics when stdout is a pipe its
//! reader has closed (`qnode frame chain 100 | head -1`); [`outln!`] and [`out!`] end
//! the command quietly instead, with success: a reader that has read enough is not an
//! error. Long-running commands (`run`, `devnet`, `sim`) keep their own output paths.

use std::io::Write;

/// Writes to stdout; when its reader has gone, the process ends here, quietly (status 0).
/// Nothing a printing command holds needs more than the end of the process to let go.
pub fn write(text: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(text) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(1);
    }
}

/// `println!` that ends the command quietly when stdout's reader has gone.
macro_rules! outln {
    () => {
        $crate::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that ends the command quietly when stdout's reader has gone.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*))
    };
}
