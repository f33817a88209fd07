//! `#[auto_async]`: write a trait once, get a blocking and an async API from it.
//!
//! This crate holds only the attribute; use it through [`cachex`](https://docs.rs/cachex), which
//! re-exports it and carries the bridge runtime that generated code calls. The full contract,
//! with examples of every spelling, is documented on `cachex::auto_async`.
//!
//! The expansion runs in three steps, one module each: `parse` reads the options, `model`
//! validates the trait and decides each method's twins, `expand` generates the code (with
//! `expand::forwarding` for the trait object support and the forwarding impls). On an impl
//! block, `impl_block` renames the implementor's `async fn`s to the trait's async names.
//!
//! `#[cached]` (module `cached`, with its own parse, model and expand steps) memoizes a
//! function in a `cachex::Cache`.

#![deny(missing_docs)]

mod cached;
mod expand;
mod impl_block;
mod model;
mod parse;
#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::parse::Errors;

/// Derives a blocking and an async twin for every method of a trait; on an impl block, lets the
/// implementor write the definition's names.
///
/// See `cachex::auto_async` for the documentation and examples.
#[proc_macro_attribute]
pub fn auto_async(
    attr: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    auto_async_impl(attr.into(), item.into()).into()
}

/// Memoizes a function's results in a `cachex::Cache`, keyed by its path and arguments.
///
/// See `cachex::cached` for the documentation and examples.
#[proc_macro_attribute]
pub fn cached(
    attr: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    cached::cached_impl(attr.into(), item.into()).into()
}

/// The attribute on `proc_macro2` tokens, so that tests can expand without a compiler.
///
/// On a misuse the errors come after the expansion of what is valid: an invalid method is kept
/// as written, a bad option left out, so that the rest of the crate and IDEs keep seeing the
/// trait and a correct impl gets no follow-up error.
fn auto_async_impl(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let mut tokens = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Trait(item)) => {
            let options = parse::TraitOptions::parse(attr, &mut errors);
            let model = model::Model::build(options, item, &mut errors);
            expand::expand(&model)
        }
        Ok(syn::Item::Impl(item)) => impl_block::expand(attr, item, &mut errors),
        Ok(other) => {
            errors.push(syn::Error::new_spanned(
                item_keyword(&other),
                "`#[auto_async]` applies to traits (and to their impls): write it on a `trait` \
                 definition",
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

/// The tokens to point at when the attribute is put on something that is not a trait: the
/// item's keyword and name rather than its whole body.
fn item_keyword(item: &syn::Item) -> TokenStream {
    match item {
        syn::Item::Fn(item) => item.sig.to_token_stream(),
        syn::Item::Struct(item) => {
            let (keyword, ident) = (&item.struct_token, &item.ident);
            quote::quote!(#keyword #ident)
        }
        syn::Item::Enum(item) => {
            let (keyword, ident) = (&item.enum_token, &item.ident);
            quote::quote!(#keyword #ident)
        }
        other => other.to_token_stream(),
    }
}
