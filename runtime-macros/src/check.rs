//! The rules a function must follow to carry `#[runtime::main]` or
//! `#[runtime::test]`, each broken rule reported as an error at the token to fix.

use quote::quote;
use syn::{Attribute, ItemFn};

use crate::expand::Kind;

/// Everything wrong with the function's signature and attributes, in source order.
pub(crate) fn check_function(kind: Kind, function: &ItemFn) -> Vec<syn::Error> {
    let signature = &function.sig;
    let mut errors = Vec::new();

    if kind == Kind::Test {
        // A second `#[test]` would register the test twice; say which one to drop.
        for attribute in function.attrs.iter().filter(|a| is_test_attribute(a)) {
            errors.push(syn::Error::new_spanned(
                attribute,
                "remove this `#[test]`: `#[runtime::test]` already makes the function a test",
            ));
        }
    }
    if signature.asyncness.is_none() {
        errors.push(syn::Error::new(
            signature.fn_token.span,
            format!(
                "{} can only be applied to an `async fn`; add `async` before `fn`",
                kind.attribute()
            ),
        ));
    }
    let generics = &signature.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        // `Generics` prints only `<...>`; add the `where` clause to cover all of it.
        let where_clause = &generics.where_clause;
        errors.push(syn::Error::new_spanned(
            quote!(#generics #where_clause),
            format!("{} functions cannot be generic", kind.attribute()),
        ));
    }
    let parameters_message = match kind {
        // A helper such as `fn serve(addr: SocketAddr)` may take parameters; only
        // the program's entry point may not.
        Kind::Main if signature.ident == "main" => Some("`main` cannot take parameters"),
        Kind::Main => None,
        Kind::Test => Some("test functions cannot take parameters"),
    };
    if let Some(message) = parameters_message.filter(|_| !signature.inputs.is_empty()) {
        errors.push(syn::Error::new_spanned(&signature.inputs, message));
    }
    errors
}

/// True for the standard `#[test]` attribute, however it is spelled: `test`,
/// `core::prelude::v1::test`, `::std::prelude::rust_2021::test`, ...
fn is_test_attribute(attribute: &Attribute) -> bool {
    let segments = &attribute.path().segments;
    let is_standard = segments.len() == 1
        || segments
            .first()
            .is_some_and(|first| first.ident == "core" || first.ident == "std");
    let ends_in_test = segments.last().is_some_and(|last| last.ident == "test");
    is_standard && ends_in_test
}

/// Folds a list of errors into one that reports all of them.
pub(crate) fn combine(errors: Vec<syn::Error>) -> syn::Result<()> {
    let mut errors = errors.into_iter();
    let Some(mut first) = errors.next() else {
        return Ok(());
    };
    for error in errors {
        first.combine(error);
    }
    Err(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    /// The messages of every error `function` gets under `kind`.
    fn messages(kind: Kind, function: ItemFn) -> Vec<String> {
        check_function(kind, &function)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_well_formed_function_passes() {
        let main: ItemFn = parse_quote!(
            pub async fn main() -> std::io::Result<()> {}
        );
        assert!(messages(Kind::Main, main.clone()).is_empty());
        assert!(messages(Kind::Test, main).is_empty());
    }

    #[test]
    fn a_missing_async_is_reported() {
        let function: ItemFn = parse_quote!(
            fn main() {}
        );
        assert_eq!(
            messages(Kind::Main, function.clone()),
            ["#[runtime::main] can only be applied to an `async fn`; add `async` before `fn`"]
        );
        assert_eq!(
            messages(Kind::Test, function),
            ["#[runtime::test] can only be applied to an `async fn`; add `async` before `fn`"]
        );
    }

    #[test]
    fn a_helper_may_take_parameters_but_main_and_tests_may_not() {
        let helper: ItemFn = parse_quote!(
            async fn helper(x: u8) {}
        );
        assert!(messages(Kind::Main, helper.clone()).is_empty());
        assert_eq!(
            messages(Kind::Test, helper),
            ["test functions cannot take parameters"]
        );
        let main: ItemFn = parse_quote!(
            async fn main(argc: i32) {}
        );
        assert_eq!(
            messages(Kind::Main, main),
            ["`main` cannot take parameters"]
        );
    }

    #[test]
    fn type_parameters_and_where_clauses_count_as_generic() {
        let with_parameter: ItemFn = parse_quote!(
            async fn helper<T>() {}
        );
        let with_where_clause: ItemFn = parse_quote!(
            async fn helper()
            where
                u8: Copy,
            {
            }
        );
        for function in [with_parameter, with_where_clause] {
            assert_eq!(
                messages(Kind::Main, function),
                ["#[runtime::main] functions cannot be generic"]
            );
        }
    }

    #[test]
    fn a_second_test_attribute_is_rejected_however_it_is_spelled() {
        let plain: ItemFn = parse_quote!(
            #[test]
            async fn twice() {}
        );
        let full_path: ItemFn = parse_quote!(
            #[::core::prelude::v1::test]
            async fn twice() {}
        );
        for function in [plain, full_path] {
            let found = messages(Kind::Test, function);
            assert_eq!(found.len(), 1);
            assert!(found[0].starts_with("remove this `#[test]`"), "{found:?}");
        }
    }

    #[test]
    fn another_crates_test_attribute_is_left_alone() {
        let function: ItemFn = parse_quote!(
            #[other::test]
            async fn elsewhere() {}
        );
        assert!(messages(Kind::Test, function).is_empty());
    }

    #[test]
    fn combine_keeps_every_error() {
        assert!(combine(Vec::new()).is_ok());
        let errors = vec![
            syn::Error::new(proc_macro2::Span::call_site(), "first"),
            syn::Error::new(proc_macro2::Span::call_site(), "second"),
        ];
        let combined = combine(errors).unwrap_err();
        let messages: Vec<String> = combined.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["first", "second"]);
    }
}
