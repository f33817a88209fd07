//! The memoized function: the signature as written (a function that cannot fail returns
//! `cachex::Result` of its value), a body that makes the key of the call and hands the
//! original body, as a closure or an async block, to the cache's `get_or_set` family.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{Model, Ttl};

pub(crate) fn expand(model: &Model<'_>) -> TokenStream {
    let krate = &model.krate;
    let helpers = quote!(#krate::__private::cached);
    let function = model.function;
    let (attrs, vis, block) = (&function.attrs, &function.vis, &function.block);
    let mut sig = function.sig.clone();
    let output = model.output;
    if !model.fallible {
        let span = output.span();
        sig.output = syn::parse_quote_spanned!(span=> -> #krate::Result<#output>);
    }
    let returns = &function.sig.output;
    let name = sig.ident.to_string();
    let path = quote!(::core::concat!(::core::module_path!(), "::", #name));
    let key = match &model.key {
        Some(key) => quote_spanned!(key.span()=> #helpers::key_of(#path, &(#key))),
        None if model.arguments.is_empty() => quote!(::std::string::String::from(#path)),
        None => {
            // Each argument's Serialize bound is checked on its own, at its own span.
            let arguments = model
                .arguments
                .iter()
                .map(|argument| quote_spanned!(argument.span()=> #helpers::argument(&#argument)));
            quote!(#helpers::key(#path, &(#(#arguments,)*))?)
        }
    };
    let ttl = match &model.ttl {
        Some(Ttl::Seconds(seconds)) => {
            quote_spanned!(seconds.span()=> #krate::Timeout::seconds(#seconds))
        }
        Some(Ttl::Expr(ttl)) => quote_spanned!(ttl.span()=> #krate::Timeout::from(#ttl)),
        None => quote!(#krate::Timeout::Default),
    };
    let cache = &model.cache;
    let cache = quote_spanned!(cache.span()=> &(#cache));
    let call = match (sig.asyncness.is_some(), model.fallible) {
        (false, false) => {
            quote!(#helpers::get_or_set(#cache, &__cachex_key, #ttl, move || #returns #block))
        }
        (false, true) => {
            quote!(#helpers::try_get_or_set(#cache, &__cachex_key, #ttl, move || #returns #block))
        }
        (true, false) => {
            quote!(#helpers::aget_or_set(#cache, &__cachex_key, #ttl, move || async move #block).await)
        }
        (true, true) => {
            quote!(#helpers::atry_get_or_set(#cache, &__cachex_key, #ttl, move || async move #block).await)
        }
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            let __cachex_key = #key;
            #call
        }
    }
}
