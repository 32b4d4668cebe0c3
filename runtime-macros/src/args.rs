//! Parsing of what is written between the attribute's parentheses, as in
//! `#[runtime::main(backend = "epoll")]`.
//!
//! Both macros accept the same arguments, so one parser serves both. Every error
//! points at the exact token that is wrong and lists what would have been
//! accepted there, so the fix is visible without opening the docs.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, Lit, LitStr, Path};

/// The argument names the attribute understands.
const VALID_ARGUMENTS: &[&str] = &["backend", "workers"];

/// A backend chosen in the attribute. It maps one to one onto `::runtime::Backend`;
/// it is a separate type because a proc-macro crate cannot use the runtime's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// `"auto"`: let the runtime pick at start-up (see `runtime::Backend::Auto`).
    Auto,
    /// `"epoll"`: the readiness backend.
    Epoll,
    /// `"io_uring"`: the completion backend.
    IoUring,
}

impl Backend {
    /// The spelling used in the attribute next to each backend. The parser and the
    /// error message both read this table, so they can never disagree.
    const SPELLINGS: [(&'static str, Backend); 3] = [
        ("auto", Backend::Auto),
        ("epoll", Backend::Epoll),
        ("io_uring", Backend::IoUring),
    ];

    /// Looks up a backend by the name written in the attribute.
    fn from_spelling(spelling: &str) -> Option<Backend> {
        Self::SPELLINGS
            .iter()
            .find(|(name, _)| *name == spelling)
            .map(|(_, backend)| *backend)
    }

    /// The name of the matching `::runtime::Backend` variant, for code generation.
    pub(crate) fn variant_name(self) -> &'static str {
        match self {
            Backend::Auto => "Auto",
            Backend::Epoll => "Epoll",
            Backend::IoUring => "IoUring",
        }
    }

    /// `"auto", "epoll", "io_uring"`: the valid values, ready for an error message.
    fn list_spellings() -> String {
        let quoted: Vec<String> = Self::SPELLINGS
            .iter()
            .map(|(name, _)| format!("\"{name}\""))
            .collect();
        quoted.join(", ")
    }
}

/// How many workers `workers = ...` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Workers {
    /// `workers = N`.
    Count(usize),
    /// `workers = "auto"`: one per online CPU.
    PerCore,
}

/// Everything the attribute's arguments can say. An absent argument is `None`, which
/// leaves the choice to the runtime.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Args {
    /// The backend asked for with `backend = "..."`.
    pub(crate) backend: Option<Backend>,
    /// The workers asked for with `workers = N` or `workers = "auto"`.
    pub(crate) workers: Option<Workers>,
}

impl Args {
    /// Parses the tokens between the attribute's parentheses (empty when there are none).
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Args> {
        let mut args = Args::default();
        // `syn::meta::parser` splits `a = 1, b = 2` into one `meta` per argument and
        // reports misplaced commas or missing `=` for us.
        let parser = syn::meta::parser(|meta| args.parse_one(meta));
        parser.parse2(tokens)?;
        Ok(args)
    }

    /// Parses one `name = value` argument into `self`.
    fn parse_one(&mut self, meta: ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident("backend") {
            let value: Expr = meta.value()?.parse()?;
            if self.backend.is_some() {
                return Err(syn::Error::new_spanned(
                    &meta.path,
                    "`backend` is given more than once",
                ));
            }
            self.backend = Some(parse_backend(&value)?);
            Ok(())
        } else if meta.path.is_ident("workers") {
            let value: Expr = meta.value()?.parse()?;
            if self.workers.is_some() {
                return Err(syn::Error::new_spanned(
                    &meta.path,
                    "`workers` is given more than once",
                ));
            }
            self.workers = Some(parse_workers(&value)?);
            Ok(())
        } else {
            // `meta.error` spans the argument's name, which is the part to fix.
            Err(meta.error(format!(
                "unknown argument `{}`; valid arguments: {}",
                path_to_string(&meta.path),
                list_valid_arguments(),
            )))
        }
    }
}

/// Reads the value of `backend = ...`, which must be a string naming a backend.
fn parse_backend(value: &Expr) -> syn::Result<Backend> {
    let Some(literal) = as_string_literal(value) else {
        // A common slip is `backend = epoll`; say what shape is expected.
        return Err(syn::Error::new_spanned(
            value,
            format!(
                "expected a string literal; valid backends: {}",
                Backend::list_spellings()
            ),
        ));
    };
    Backend::from_spelling(&literal.value()).ok_or_else(|| {
        syn::Error::new(
            literal.span(),
            format!(
                "unknown backend {:?}; valid backends: {}",
                literal.value(),
                Backend::list_spellings()
            ),
        )
    })
}

/// Reads the value of `workers = ...`: a positive integer, or the string `"auto"`.
fn parse_workers(value: &Expr) -> syn::Result<Workers> {
    const EXPECTED: &str = "expected a number of workers (`workers = 4`) or \"auto\" (one per CPU)";
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<usize>() {
            Ok(n) if n > 0 => Ok(Workers::Count(n)),
            _ => Err(syn::Error::new(int.span(), EXPECTED)),
        },
        _ => match as_string_literal(value) {
            Some(literal) if literal.value() == "auto" => Ok(Workers::PerCore),
            _ => Err(syn::Error::new_spanned(value, EXPECTED)),
        },
    }
}

/// Returns the string literal `value` is, if it is one.
fn as_string_literal(value: &Expr) -> Option<&LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(literal),
            ..
        }) => Some(literal),
        _ => None,
    }
}

/// `a::b` as the user wrote it, without the spaces `quote` would put around `::`.
fn path_to_string(path: &Path) -> String {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    segments.join("::")
}

/// `` `backend` ``: the valid argument names, ready for an error message.
fn list_valid_arguments() -> String {
    let quoted: Vec<String> = VALID_ARGUMENTS
        .iter()
        .map(|name| format!("`{name}`"))
        .collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    /// Parses `tokens` and returns the error message, failing the test on success.
    fn error_of(tokens: TokenStream) -> String {
        match Args::parse(tokens) {
            Ok(args) => panic!("expected an error, got {args:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn no_arguments_leave_the_backend_to_the_runtime() {
        assert_eq!(Args::parse(TokenStream::new()).unwrap(), Args::default());
    }

    #[test]
    fn each_backend_spelling_is_accepted() {
        let cases = [
            (quote!(backend = "auto"), Backend::Auto),
            (quote!(backend = "epoll"), Backend::Epoll),
            (quote!(backend = "io_uring"), Backend::IoUring),
        ];
        for (tokens, expected) in cases {
            let args = Args::parse(tokens).unwrap();
            assert_eq!(args.backend, Some(expected));
        }
    }

    #[test]
    fn a_trailing_comma_is_accepted() {
        let args = Args::parse(quote!(backend = "epoll",)).unwrap();
        assert_eq!(args.backend, Some(Backend::Epoll));
    }

    #[test]
    fn an_unknown_argument_names_itself_and_the_valid_ones() {
        let message = error_of(quote!(threads = 4));
        assert_eq!(
            message,
            "unknown argument `threads`; valid arguments: `backend`, `workers`"
        );
    }

    #[test]
    fn workers_takes_a_positive_count_or_auto() {
        let args = Args::parse(quote!(workers = 4)).unwrap();
        assert_eq!(args.workers, Some(Workers::Count(4)));
        let args = Args::parse(quote!(workers = "auto", backend = "epoll")).unwrap();
        assert_eq!(args.workers, Some(Workers::PerCore));
        for wrong in [
            quote!(workers = 0),
            quote!(workers = "many"),
            quote!(workers = n),
        ] {
            assert!(error_of(wrong).starts_with("expected a number of workers"));
        }
    }

    #[test]
    fn an_unknown_path_argument_is_printed_without_spaces() {
        let message = error_of(quote!(runtime::backend = "epoll"));
        assert!(message.contains("`runtime::backend`"), "{message}");
    }

    #[test]
    fn an_unknown_backend_lists_the_valid_ones() {
        let message = error_of(quote!(backend = "kqueue"));
        assert_eq!(
            message,
            "unknown backend \"kqueue\"; valid backends: \"auto\", \"epoll\", \"io_uring\""
        );
    }

    #[test]
    fn a_backend_that_is_not_a_string_is_rejected() {
        let message = error_of(quote!(backend = epoll));
        assert!(
            message.starts_with("expected a string literal"),
            "{message}"
        );
    }

    #[test]
    fn a_backend_without_a_value_is_rejected() {
        let message = error_of(quote!(backend));
        assert!(message.contains('='), "{message}");
    }

    #[test]
    fn a_repeated_backend_is_rejected() {
        let message = error_of(quote!(backend = "epoll", backend = "io_uring"));
        assert_eq!(message, "`backend` is given more than once");
    }

    #[test]
    fn variant_names_match_the_runtime_enum() {
        assert_eq!(Backend::Auto.variant_name(), "Auto");
        assert_eq!(Backend::Epoll.variant_name(), "Epoll");
        assert_eq!(Backend::IoUring.variant_name(), "IoUring");
    }
}
