//! What commands print for their reader. `println!` panics when stdout is a pipe its
//! reader has closed (`qnode frame chain 100 | head -1`); [`outln!`] and [`out!`] end
//! the command quietly instead, with success: a reader that has read enough is not an
//! error. `devnet` stops its nodes first ([`try_write`]); `run` prints only logs.

use std::io::Write;

/// Writes to stdout; when its reader has gone, the process ends here, quietly (status 0).
/// Nothing a printing command holds needs more than the end of the process to let go.
pub fn write(text: std::fmt::Arguments<'_>) {
    if !try_write(text) {
        std::process::exit(0);
    }
}

/// Writes to stdout; false when its reader has gone, for a command that must first stop
/// what it started (`devnet`'s nodes). Any other failure ends the process (status 1).
pub fn try_write(text: std::fmt::Arguments<'_>) -> bool {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
        Err(e) => {
            eprintln!("error: writing to stdout: {e}");
            std::process::exit(1);
        }
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
