//! `#[cached]`: memoizes a function's results in a `cachex::Cache`.
//!
//! The same three steps as `#[auto_async]`: `parse` reads the options, `model` validates the
//! function and decides its form (blocking or async, fallible or not), `expand` generates the
//! memoized function, which calls the runtime helpers of `cachex::__private::cached`. On a
//! misuse the function is emitted as written, followed by every error, so that the rest of the
//! crate still sees it.

mod expand;
mod model;
mod parse;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// The attribute on `proc_macro2` tokens, so that tests can expand without a compiler.
pub(crate) fn cached_impl(attr: TokenStream, item: TokenStream) -> TokenStream {
    crate::attribute(item, |item, errors| match item {
        syn::Item::Fn(function) => {
            let options = parse::Options::parse(attr, errors);
            match model::Model::build(options, &function, errors) {
                Some(model) if errors.is_empty() => expand::expand(&model),
                _ => function.into_token_stream(),
            }
        }
        other => crate::wrong_item(
            other,
            "`#[cached]` applies to functions: write it on a `fn` or an `async fn`",
            errors,
        ),
    })
}
