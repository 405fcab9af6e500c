//! One file per subcommand: argument parsing and output; the work lives in the libraries.

pub mod chat;
pub mod convert;
pub mod devices;
pub mod generate;
pub mod inspect;
pub mod models;
