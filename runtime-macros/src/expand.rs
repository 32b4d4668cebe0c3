//! Code generation: turns the user's `async fn` into a plain `fn` that starts a
//! runtime (for `#[runtime::main]`) or hands the body to the runtime's test
//! driver (for `#[runtime::test]`).
//!
//! Every check runs before any code is generated and all problems are reported
//! together. On error a stand-in for the user's function is emitted next to the
//! error, so the rest of the crate still sees the function and the user sees no
//! follow-up errors (such as "cannot find `main`").

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ext::IdentExt;
use syn::{parse_quote, AttrStyle, Attribute, FnArg, Ident, ItemFn, LitStr, PatType};

use crate::args::{Args, Backend, Workers};
use crate::check;

/// Which of the two attributes is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[runtime::main]`.
    Main,
    /// `#[runtime::test]`.
    Test,
}

impl Kind {
    /// The attribute as users write it, for error messages.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Kind::Main => "#[runtime::main]",
            Kind::Test => "#[runtime::test]",
        }
    }
}

/// Expands `#[runtime::main(args)] item`.
pub(crate) fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args, item)
}

/// Expands `#[runtime::test(args)] item`.
pub(crate) fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args, item)
}

/// Checks the function and the arguments, then generates the code. Problems become
/// compile errors emitted next to a stand-in for the function (see [`stand_in`]).
fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            // `call_site` is the attribute itself: the right place to say it is misplaced.
            let error = syn::Error::new(
                Span::call_site(),
                format!("{} can only be applied to an `async fn`", kind.attribute()),
            );
            return with_error(error, item);
        }
    };

    // Argument errors come first: they are the first thing in the source.
    let mut errors = Vec::new();
    let args = Args::parse(args).unwrap_or_else(|error| {
        errors.push(error);
        Args::default()
    });
    errors.extend(check::check_function(kind, &function));

    match check::combine(errors) {
        Ok(()) => match kind {
            Kind::Main => expand_main(&args, function),
            Kind::Test => expand_test(&args, function),
        },
        Err(error) => with_error(error, stand_in(kind, function, item)),
    }
}

/// `error` as `compile_error!` invocations, followed by `item`.
fn with_error(error: syn::Error, item: TokenStream) -> TokenStream {
    let mut tokens = error.to_compile_error();
    tokens.extend(item);
    tokens
}

/// What to emit in place of a function the attribute rejected, so that the only
/// errors the user sees are the ones that explain the mistake: nothing that uses
/// the function, or `main`, should fail because of it.
///
/// - A rejected test is emitted unchanged: an `async fn` that is not a test is
///   valid Rust, and nothing calls a test.
/// - A rejected `main` cannot be emitted unchanged (`async fn main` is itself an
///   error), and a rejected helper is called like a plain function. So both are
///   expanded as if the mistakes were fixed: with the runtime's default backend,
///   and with the parameters of `main` turned into locals of its body.
fn stand_in(kind: Kind, function: ItemFn, original: TokenStream) -> TokenStream {
    match kind {
        Kind::Test => original,
        Kind::Main => expand_main(&Args::default(), without_main_parameters(function)),
    }
}

/// Moves the parameters of a `main` into its body as `let param: Type = unreachable!();`
/// so the body still type-checks while the signature becomes the valid `fn main()`.
/// Other functions are returned unchanged.
fn without_main_parameters(mut function: ItemFn) -> ItemFn {
    if function.sig.ident != "main" {
        return function;
    }
    let mut locals = Vec::new();
    let parameters = std::mem::take(&mut function.sig.inputs);
    for parameter in parameters {
        match parameter {
            FnArg::Typed(PatType { pat, ty, .. }) => {
                locals.push(quote!(let #pat: #ty = ::core::unreachable!();));
            }
            // `self` cannot become a local; leave it for the compiler to reject.
            receiver @ FnArg::Receiver(_) => function.sig.inputs.push(receiver),
        }
    }
    let block = &function.block;
    function.block = parse_quote!({ #(#locals)* #block });
    // The body now follows a diverging expression, which the compiler would point out
    // next to the real error; it is never meant to run.
    function
        .attrs
        .push(parse_quote!(#[allow(unreachable_code, unused_variables)]));
    function
}

/// `#[runtime::main] async fn f(params) -> R { body }` becomes
///
/// ```text
/// fn f(params) -> R {
///     let body = async move { body };
///     let runtime = match ::runtime::Runtime::builder().build() {
///         Ok(runtime) => runtime,
///         Err(error) => /* see below */,
///     };
///     runtime.block_on(body)
/// }
/// ```
///
/// The body stays an `async move` block rather than a nested `async fn` so that it
/// can still use the parameters and `self` of a helper method. Its output type is
/// still pinned to `R`: `block_on` returns exactly the block's output, and that call
/// is the tail of a function declared to return `R`. So `?` and `Err("...".into())`
/// in the body need no annotations, as in an `async fn`.
///
/// When the runtime cannot start (say io_uring is required and the kernel refuses
/// it), a function named `main` prints the reason on stderr in plain words and
/// exits with status 1, as a `main` returning `Err` does; a panic would add its
/// location, the error's `Debug` form and perhaps a backtrace, which only hide the
/// reason from whoever runs the program. Any other function panics with the same
/// message instead: ending the process is the program's decision, not a helper's.
fn expand_main(args: &Args, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    sig.asyncness = None;
    let attrs = attrs.into_iter().map(into_outer);

    // `mixed_site` hides these locals from the user's code, like the locals of a
    // `macro_rules!` macro, so the body cannot see or clash with them.
    let body = Ident::new("body", Span::mixed_site());
    let runtime = Ident::new("runtime", Span::mixed_site());
    let error = Ident::new("error", Span::mixed_site());
    let choose_backend = args.backend.map(|backend| {
        let backend = backend_path(backend);
        quote!(.backend(#backend))
    });
    let choose_workers = args.workers.map(|workers| match workers {
        Workers::Count(n) => quote!(.workers(#n)),
        Workers::PerCore => quote!(.workers_per_core()),
    });
    let cannot_start = if sig.ident == "main" {
        quote! {{
            ::std::eprintln!("error: cannot start the runtime: {}", #error);
            ::std::process::exit(1)
        }}
    } else {
        quote!(::core::panic!("cannot start the runtime: {}", #error))
    };

    quote! {
        #(#attrs)*
        #vis #sig {
            let #body = async move #block;
            let #runtime = match ::runtime::Runtime::builder() #choose_backend #choose_workers .build() {
                ::core::result::Result::Ok(#runtime) => #runtime,
                ::core::result::Result::Err(#error) => #cannot_start,
            };
            #runtime.block_on(#body)
        }
    }
}

/// `#[runtime::test] async fn name() -> R { body }` becomes
///
/// ```text
/// #[::core::prelude::v1::test]
/// fn name() {
///     async fn name() -> R { body }
///     ::runtime::__private::run_test(None, "name", name)
/// }
/// ```
///
/// The body goes into a nested `async fn` with the declared return type, rather than
/// a closure returning an `async` block: the driver accepts any output implementing
/// its `TestOutput` trait, so nothing else would tell the compiler what `?` in a test
/// returning `Result<(), E>` converts into. Test functions have no parameters, so
/// the nested function loses nothing. The outer `name` is the only item it hides,
/// and only inside the test itself.
fn expand_test(args: &Args, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    if args.workers.is_some() {
        return syn::Error::new(
            sig.ident.span(),
            "`workers` is for `#[runtime::main]`: a test runs on one worker per backend (build a \
             runtime with `Runtime::builder().workers(n)` inside a plain `#[test]` instead)",
        )
        .to_compile_error();
    }
    let attrs = attrs.into_iter().map(into_outer);
    let name = &sig.ident;
    let output = &sig.output;
    // `unraw` so that `async fn r#match()` reports itself as `match`.
    let name_string = LitStr::new(&name.unraw().to_string(), name.span());
    let backend = match args.backend {
        Some(backend) => {
            let backend = backend_path(backend);
            quote!(::core::option::Option::Some(#backend))
        }
        None => quote!(::core::option::Option::None),
    };

    quote! {
        #(#attrs)*
        #[::core::prelude::v1::test]
        #vis fn #name() {
            async fn #name() #output #block
            ::runtime::__private::run_test(#backend, #name_string, #name)
        }
    }
}

/// `::runtime::Backend::Epoll` and friends.
fn backend_path(backend: Backend) -> TokenStream {
    let variant = Ident::new(backend.variant_name(), Span::call_site());
    quote!(::runtime::Backend::#variant)
}

/// Turns `#![attr]` (written inside the body) into `#[attr]`. Both apply to the
/// function; only the outer form can be written in front of the generated one.
fn into_outer(mut attribute: Attribute) -> Attribute {
    attribute.style = AttrStyle::Outer;
    attribute
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compares token streams by their printed form, which ignores spans.
    fn assert_tokens_eq(actual: TokenStream, expected: TokenStream) {
        assert_eq!(actual.to_string(), expected.to_string());
    }

    /// The message of every `compile_error!` in `tokens`, in order.
    fn error_messages(tokens: &TokenStream) -> Vec<String> {
        let printed = tokens.to_string();
        printed
            .split("compile_error !")
            .skip(1)
            .map(|rest| {
                let start = rest.find('"').expect("a message") + 1;
                let end = start + rest[start..].find('"').expect("its end");
                rest[start..end].to_string()
            })
            .collect()
    }

    /// `tokens` printed without its `compile_error!` invocations.
    fn without_errors(tokens: &TokenStream) -> String {
        const ERROR_START: &str = ":: core :: compile_error ! {";
        let mut printed = tokens.to_string();
        while let Some(start) = printed.find(ERROR_START) {
            // The messages contain no `}`, so the first one closes the invocation.
            let end = start + printed[start..].find('}').expect("a closing brace") + 1;
            printed.replace_range(start..end, "");
        }
        printed.trim().to_string()
    }

    /// What a generated `main` does when the runtime cannot start.
    fn exit_on_error() -> TokenStream {
        quote! {{
            ::std::eprintln!("error: cannot start the runtime: {}", error);
            ::std::process::exit(1)
        }}
    }

    /// What any other generated function does then.
    fn panic_on_error() -> TokenStream {
        quote!(::core::panic!("cannot start the runtime: {}", error))
    }

    #[test]
    fn main_without_arguments_keeps_the_default_backend() {
        let exit = exit_on_error();
        let generated = main(
            TokenStream::new(),
            quote! {
                async fn main() {
                    work().await;
                }
            },
        );
        assert_tokens_eq(
            generated,
            quote! {
                fn main() {
                    let body = async move {
                        work().await;
                    };
                    let runtime = match ::runtime::Runtime::builder().build() {
                        ::core::result::Result::Ok(runtime) => runtime,
                        ::core::result::Result::Err(error) => #exit,
                    };
                    runtime.block_on(body)
                }
            },
        );
    }

    #[test]
    fn main_with_a_backend_keeps_attributes_visibility_and_return_type() {
        let panic = panic_on_error();
        let generated = main(
            quote!(backend = "io_uring"),
            quote! {
                /// Docs.
                #[allow(unused)]
                pub async fn serve(port: u16) -> std::io::Result<()> {
                    #![allow(clippy::all)]
                    listen(port).await
                }
            },
        );
        assert_tokens_eq(
            generated,
            quote! {
                /// Docs.
                #[allow(unused)]
                #[allow(clippy::all)]
                pub fn serve(port: u16) -> std::io::Result<()> {
                    let body = async move {
                        listen(port).await
                    };
                    let runtime = match ::runtime::Runtime::builder()
                        .backend(::runtime::Backend::IoUring)
                        .build()
                    {
                        ::core::result::Result::Ok(runtime) => runtime,
                        ::core::result::Result::Err(error) => #panic,
                    };
                    runtime.block_on(body)
                }
            },
        );
    }

    #[test]
    fn test_without_arguments_runs_on_every_backend() {
        let generated = test(
            TokenStream::new(),
            quote! {
                #[ignore]
                async fn reads_back() -> Result<(), Error> {
                    check().await?;
                    Ok(())
                }
            },
        );
        assert_tokens_eq(
            generated,
            quote! {
                #[ignore]
                #[::core::prelude::v1::test]
                fn reads_back() {
                    async fn reads_back() -> Result<(), Error> {
                        check().await?;
                        Ok(())
                    }
                    ::runtime::__private::run_test(
                        ::core::option::Option::None,
                        "reads_back",
                        reads_back
                    )
                }
            },
        );
    }

    #[test]
    fn test_with_a_backend_runs_only_there() {
        let generated = test(
            quote!(backend = "epoll"),
            quote! {
                async fn r#loop() {}
            },
        );
        assert_tokens_eq(
            generated,
            quote! {
                #[::core::prelude::v1::test]
                fn r#loop() {
                    async fn r#loop() {}
                    ::runtime::__private::run_test(
                        ::core::option::Option::Some(::runtime::Backend::Epoll),
                        "loop",
                        r#loop
                    )
                }
            },
        );
    }

    #[test]
    fn a_rejected_test_is_emitted_unchanged() {
        let item = quote! {
            fn reads_back() {}
        };
        let generated = test(TokenStream::new(), item.clone());
        assert_eq!(without_errors(&generated), item.to_string());
        assert_eq!(
            error_messages(&generated),
            ["#[runtime::test] can only be applied to an `async fn`; add `async` before `fn`"]
        );
    }

    #[test]
    fn a_rejected_main_is_expanded_as_if_fixed() {
        let exit = exit_on_error();
        let generated = main(
            quote!(backend = "kqueue"),
            quote! {
                fn main(argc: i32) {
                    use_it(argc);
                }
            },
        );
        assert_eq!(error_messages(&generated).len(), 3);
        let expected = quote! {
            #[allow(unreachable_code, unused_variables)]
            fn main() {
                let body = async move {
                    let argc: i32 = ::core::unreachable!();
                    {
                        use_it(argc);
                    }
                };
                let runtime = match ::runtime::Runtime::builder().build() {
                    ::core::result::Result::Ok(runtime) => runtime,
                    ::core::result::Result::Err(error) => #exit,
                };
                runtime.block_on(body)
            }
        };
        assert_eq!(without_errors(&generated), expected.to_string());
    }

    #[test]
    fn a_rejected_helper_keeps_its_parameters() {
        let generated = main(
            quote!(threads = 2),
            quote! {
                async fn helper(port: u16) {}
            },
        );
        assert_eq!(error_messages(&generated).len(), 1);
        assert!(without_errors(&generated).starts_with("fn helper (port : u16)"));
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let generated = main(
            quote!(backend = "kqueue"),
            quote! {
                fn main<T>(argc: i32) {}
            },
        );
        let messages = error_messages(&generated);
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(messages[0].starts_with("unknown backend"));
        assert!(messages[1].contains("add `async`"));
        assert_eq!(messages[2], "#[runtime::main] functions cannot be generic");
        assert_eq!(messages[3], "`main` cannot take parameters");
    }

    #[test]
    fn something_other_than_a_function_is_rejected() {
        let generated = main(
            TokenStream::new(),
            quote!(
                struct Config;
            ),
        );
        assert_eq!(
            error_messages(&generated),
            ["#[runtime::main] can only be applied to an `async fn`"]
        );
        assert!(generated.to_string().ends_with("struct Config ;"));
    }
}
