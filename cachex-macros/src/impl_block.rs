//! `#[auto_async]` on an impl block: implementors write the definition's names.
//!
//! In the impl, `async fn get` is the native async side of `get` and becomes `async fn aget`,
//! the name the trait declares; every other item is kept as written (`fn set`, the native
//! blocking side, or an injected blocking `fn get`). A method marked `#[auto_async(skip)]` is
//! kept as written too: the `async fn` of a method the trait itself skipped.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{ImplItem, ItemImpl};

use crate::model::prefixed;
use crate::parse::{Errors, MethodOptions};

/// Renames the `async fn`s of a trait impl to the trait's async names.
pub(crate) fn expand(attr: TokenStream, mut item: ItemImpl, errors: &mut Errors) -> TokenStream {
    if !attr.is_empty() {
        errors.push(syn::Error::new_spanned(
            attr,
            "`#[auto_async]` on an impl block takes no options (the trait's apply)",
        ));
    }
    if item.trait_.is_none() {
        errors.push(syn::Error::new_spanned(
            &item.self_ty,
            "`#[auto_async]` applies to an impl of an annotated trait (`impl Trait for Type`), \
             not to an inherent impl",
        ));
    }
    for entry in &mut item.items {
        if let ImplItem::Fn(method) = entry {
            let skip = MethodOptions::take_in_impl(&mut method.attrs, errors);
            if !skip && item.trait_.is_some() && method.sig.asyncness.is_some() {
                method.sig.ident = prefixed(&method.sig.ident);
            }
        }
    }
    item.into_token_stream()
}
