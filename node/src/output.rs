//! Standard output for commands. A closed pipe (`entente log | head`) ends the command quietly
//! instead of panicking, as `println!` would.

use std::io::Write;

/// Writes one line to stdout.
pub fn write_line(args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Whether an error is just the reader of our output going away.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// `println!` that returns the write error to the enclosing function instead of panicking.
macro_rules! outln {
    () => {
        $crate::output::write_line(format_args!(""))?
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))?
    };
}
pub(crate) use outln;
