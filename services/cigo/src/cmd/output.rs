//! The output formats of the commands that print a report.

/// `--format` of `cigo validate` and `cigo regole`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Markdown,
    /// The esito as the server's `esito.csv` (UTF-8 with BOM, `;`): `cigo validate` only.
    Csv,
}
