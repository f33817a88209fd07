//! `#[auto_async]`: write a trait once, get a blocking and an async API from it.
//!
//! This crate holds only the attribute; use it through [`cachex`](https://docs.rs/cachex), which
//! re-exports it and carries the bridge runtime that generated code calls. The full contract,
//! with examples of every spelling, is documented on `cachex::auto_async`.
//!
//! The expansion runs in three steps, one module each: `parse` reads the options, `model`
//! validates the trait and decides each method's twins, `expand` generates the code.

#![deny(missing_docs)]

mod expand;
mod model;
mod parse;
#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Derives a blocking and an async twin for every method of a trait.
///
/// See `cachex::auto_async` for the documentation and examples.
#[proc_macro_attribute]
pub fn auto_async(
    attr: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    auto_async_impl(attr.into(), item.into()).into()
}

/// The attribute on `proc_macro2` tokens, so that tests can expand without a compiler.
///
/// On any misuse, the trait is still emitted (without the attribute's helpers) next to the
/// errors, so that the rest of the crate and IDEs keep seeing it.
fn auto_async_impl(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Trait(item)) => item,
        Ok(other) => {
            let err = syn::Error::new_spanned(
                item_keyword(&other),
                "`#[auto_async]` applies to traits: write it on a `trait` definition",
            );
            let err = err.to_compile_error();
            return quote::quote!(#other #err);
        }
        Err(err) => {
            let err = err.to_compile_error();
            return quote::quote!(#item #err);
        }
    };
    let built = parse::TraitOptions::parse(attr)
        .and_then(|options| model::Model::build(options, item.clone()));
    match built {
        Ok(model) => expand::expand(&model),
        Err(err) => {
            let mut tokens = parse::strip_helper_attrs(item).into_token_stream();
            tokens.extend(err.to_compile_error());
            tokens
        }
    }
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
        syn::Item::Impl(item) => {
            let (keyword, ty) = (&item.impl_token, &item.self_ty);
            quote::quote!(#keyword #ty)
        }
        other => other.to_token_stream(),
    }
}
