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

use crate::parse::Errors;

/// The attribute on `proc_macro2` tokens, so that tests can expand without a compiler.
pub(crate) fn cached_impl(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let mut tokens = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(function)) => {
            let options = parse::Options::parse(attr, &mut errors);
            match model::Model::build(options, &function, &mut errors) {
                Some(model) if errors.is_empty() => expand::expand(&model),
                _ => function.into_token_stream(),
            }
        }
        Ok(other) => {
            errors.push(syn::Error::new_spanned(
                crate::item_keyword(&other),
                "`#[cached]` applies to functions: write it on a `fn` or an `async fn`",
            ));
            other.into_token_stream()
        }
        Err(err) => {
            errors.push(err);
            item
        }
    };
    tokens.extend(errors.into_compile_errors());
    tokens
}
