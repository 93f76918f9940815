//! The output formats of the commands that print a report.

/// `--format` of `cigo validate` and `cigo regole`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Markdown,
}
