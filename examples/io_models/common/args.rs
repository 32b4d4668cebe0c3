//! A tiny command line parser: `<addr> [--flag] [--name value]`, in any order.

use std::net::SocketAddr;

/// Where a server listens when no address is given.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// The parsed command line of a server.
pub struct Args {
    /// The address to listen on (`127.0.0.1:0` picks a free port).
    pub addr: SocketAddr,
    /// Everything that starts with `--`, plus the value following a `--name value` flag.
    rest: Vec<String>,
}

impl Args {
    /// Parses `std::env::args()`; exits with a message on a malformed address.
    pub fn parse() -> Args {
        let mut addr = None;
        let mut rest = Vec::new();
        let mut words = std::env::args().skip(1).peekable();
        while let Some(word) = words.next() {
            if word.starts_with("--") {
                rest.push(word);
                // A flag may carry a value (`--pool 8`): keep it right after the flag.
                if let Some(value) = words.next_if(|next| !next.starts_with("--")) {
                    rest.push(value);
                }
            } else if addr.is_none() {
                addr = Some(word);
            } else {
                fail(&format!("unexpected argument {word:?}"));
            }
        }
        let addr = addr.unwrap_or_else(|| DEFAULT_ADDR.to_string());
        let addr = addr
            .parse()
            .unwrap_or_else(|_| fail(&format!("{addr:?} is not an address like {DEFAULT_ADDR}")));
        Args { addr, rest }
    }

    /// True if `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.rest.iter().any(|word| word == name)
    }

    /// The value after `--name`, if the flag was given with one.
    pub fn value(&self, name: &str) -> Option<&str> {
        let at = self.rest.iter().position(|word| word == name)?;
        self.rest
            .get(at + 1)
            .filter(|value| !value.starts_with("--"))
            .map(String::as_str)
    }
}

/// Prints a usage error and exits.
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    eprintln!("usage: <server> [ADDR] [flags]   (ADDR defaults to {DEFAULT_ADDR})");
    std::process::exit(2);
}
