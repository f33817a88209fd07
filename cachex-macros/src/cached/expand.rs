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
        None if model.arguments.is_empty() => quote!(#helpers::key_without_arguments(#path)),
        None => {
            // Each argument's Serialize bound is checked on its own, at its own span.
            let arguments = model
                .arguments
                .iter()
                .map(|argument| quote_spanned!(argument.span()=> #helpers::argument(&#argument)));
            quote!(#helpers::key(#path, &[#(#arguments),*]))
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
    // The helper is named with the return type's span: what it requires of the value and of
    // the error (`Serialize`, `From<cachex::Error>`) is reported there.
    let helper = match (sig.asyncness.is_some(), model.fallible) {
        (false, false) => "get_or_set",
        (false, true) => "try_get_or_set",
        (true, false) => "aget_or_set",
        (true, true) => "atry_get_or_set",
    };
    let helper = syn::Ident::new(helper, returns.span());
    let helper = quote_spanned!(returns.span()=> #helpers::#helper);
    let call = if sig.asyncness.is_some() {
        quote!(#helper(#cache, __cachex_key, #ttl, move || async move #block).await)
    } else {
        quote!(#helper(#cache, __cachex_key, #ttl, move || #returns #block))
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            let __cachex_key = #key;
            #call
        }
    }
}
