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
    attribute(item, |item, errors| match item {
        syn::Item::Trait(item) => {
            let options = parse::TraitOptions::parse(attr, errors);
            let model = model::Model::build(options, item, errors);
            expand::expand(&model)
        }
        syn::Item::Impl(item) => impl_block::expand(attr, item, errors),
        other => wrong_item(
            other,
            "`#[auto_async]` applies to traits (and to their impls): write it on a `trait` \
             definition",
            errors,
        ),
    })
}

/// An attribute's expansion of an item, followed by every error it reported; an item that
/// does not parse is kept as it is, after its parse error.
fn attribute(
    item: TokenStream,
    expand: impl FnOnce(syn::Item, &mut Errors) -> TokenStream,
) -> TokenStream {
    let mut errors = Errors::default();
    let mut tokens = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(parsed) => expand(parsed, &mut errors),
        Err(err) => {
            errors.push(err);
            item
        }
    };
    tokens.extend(errors.into_compile_errors());
    tokens
}

/// An item the attribute does not apply to: kept as written, with `message` at its keyword.
fn wrong_item(item: syn::Item, message: &str, errors: &mut Errors) -> TokenStream {
    errors.push(syn::Error::new_spanned(item_keyword(&item), message));
    item.into_token_stream()
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
