//! Code generation from the model: the trait with both twins of every method, the async view
//! (`a()` / `a_mut()`) and the method handles.
//!
//! Generated code refers to the runtime only through `{crate}::__private`, contains no `unsafe`,
//! and keeps user bodies as tokens (an async default body is wrapped, never rewritten).

use proc_macro2::{Group, Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;
use syn::visit_mut::{self, VisitMut};
use syn::{
    Attribute, FnArg, GenericParam, Ident, Lifetime, ReturnType, Signature, TraitItem, TraitItemFn,
    Type, WherePredicate, parse_quote,
};

use crate::model::{Entry, Method, Model, Native, ReceiverKind};

/// Which twin of a method is being generated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Sync,
    Async,
}

pub(crate) fn expand(model: &Model) -> TokenStream {
    let definition = definition(model);
    let view = view(model);
    let handles = handles(model);
    quote! { #definition #view #handles }
}

/// The trait itself: both twins of every method, then `a()` (and `a_mut()`).
fn definition(model: &Model) -> TokenStream {
    let mut item = model.item.clone();
    for entry in &model.entries {
        match entry {
            Entry::Verbatim(verbatim) => item.items.push(verbatim.clone()),
            Entry::Method(method) => {
                item.items
                    .push(TraitItem::Fn(twin(model, method, Side::Sync)));
                item.items
                    .push(TraitItem::Fn(twin(model, method, Side::Async)));
            }
        }
    }
    let view = &model.view;
    let shared = args(&model.item.generics, quote!(&'_ Self));
    let exclusive = args(&model.item.generics, quote!(&'_ mut Self));
    let name = model.item.ident.unraw();
    let doc = format!(
        "Returns the async view of this [`{name}`]: the definition's method names, every call a \
         future (`x.a().m(args).await` is `x.am(args).await`)."
    );
    item.items.push(parse_quote! {
        #[doc = #doc]
        #[inline]
        fn a(&self) -> #view<#shared> {
            #view { target: self, marker: ::core::marker::PhantomData }
        }
    });
    if model.has_exclusive_methods() {
        let doc = format!(
            "Returns the async view of this [`{name}`] that can also call its `&mut self` methods."
        );
        item.items.push(parse_quote! {
            #[doc = #doc]
            #[inline]
            fn a_mut(&mut self) -> #view<#exclusive> {
                #view { target: self, marker: ::core::marker::PhantomData }
            }
        });
    }
    item.into_token_stream()
}

/// One twin of a method, as a trait item: required when it is the native side without a default
/// body, provided otherwise.
fn twin(model: &Model, method: &Method, side: Side) -> TraitItemFn {
    let native_side = match method.native {
        Native::Async => Side::Async,
        Native::Blocking | Native::Nonblocking => Side::Sync,
    };
    let mut sig = method.sig.clone();
    let mut attrs = method.attrs.clone();
    attrs.extend(deprecation(method, side));
    if side == Side::Async {
        add_send_bounds(model, method, &mut sig);
    }
    add_sized_bound(method, &mut sig);
    let default = if side == native_side {
        match (&method.body, side) {
            (None, _) => None,
            (Some(body), Side::Sync) => Some(body.clone()),
            (Some(body), Side::Async) => {
                // As an `async fn` does, the future owns every argument until it completes:
                // each is passed by name and bound to its pattern inside the block.
                sig.inputs = method.params.clone();
                let bindings = argument_bindings(method);
                Some(parse_quote!({ async move { #(#bindings)* #body } }))
            }
        }
    } else {
        sig.inputs = method.params.clone();
        attrs.extend(derived_doc(method));
        attrs.push(parse_quote!(#[allow(deprecated)]));
        let body = bridge_body(model, method);
        Some(parse_quote!({ #body }))
    };
    match side {
        Side::Sync => sig.ident = method.sync_name.clone(),
        Side::Async => {
            sig.ident = method.async_name.clone();
            sig.output = future_of(&sig.output, model.options.local);
        }
    }
    TraitItemFn {
        attrs,
        sig,
        semi_token: default.is_none().then(Default::default),
        default,
    }
}

/// The body of the derived twin: a call of the native side through the bridge.
fn bridge_body(model: &Model, method: &Method) -> TokenStream {
    let krate = &model.options.krate;
    let trait_name = model.item.ident.unraw().to_string();
    let method_name = method.sig.ident.unraw().to_string();
    let trait_ref = trait_ref(model);
    let native = method.native_name();
    let turbofish = turbofish(&method.sig);
    let args = &method.args;
    let call = quote!(<Self as #trait_ref>::#native #turbofish(self #(, #args)*));
    let (block_on, blocking) = if model.options.local {
        (quote!(block_on_local), quote!(blocking_local))
    } else {
        (quote!(block_on), quote!(blocking))
    };
    match method.native {
        Native::Async => {
            quote!(#krate::__private::#block_on(#trait_name, #method_name, #call))
        }
        Native::Blocking => {
            quote!(#krate::__private::#blocking(#trait_name, #method_name, move || #call))
        }
        Native::Nonblocking => quote!(#krate::__private::nonblocking(move || #call)),
    }
}

/// `let PATTERN = NAME;` for every argument of an async default body (a `_` argument is kept
/// under its generated name, so that it too lives as long as the future).
fn argument_bindings(method: &Method) -> Vec<TokenStream> {
    let patterns = method.sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(typed) => Some(&typed.pat),
        FnArg::Receiver(_) => None,
    });
    patterns
        .zip(&method.args)
        .map(|(pattern, name)| match &**pattern {
            syn::Pat::Wild(_) => quote!(let #name = #name;),
            pattern => quote!(let #pattern = #name;),
        })
        .collect()
}

/// A method that returns `Self` by value needs `Self: Sized` for its future's `Output`, for
/// the bridge, and for the view and handle methods that return it.
fn add_sized_bound(method: &Method, sig: &mut Signature) {
    if let ReturnType::Type(_, ty) = &method.sig.output {
        if mentions_self_by_value(ty.to_token_stream()) {
            let bound: WherePredicate = parse_quote!(Self: ::core::marker::Sized);
            sig.generics.make_where_clause().predicates.push(bound);
        }
    }
}

/// Whether `Self` appears in a type other than behind a reference or pointer (`&Self`,
/// `&'a mut Self`, `*const Self`) or as a path prefix (`Self::Item`).
fn mentions_self_by_value(tokens: TokenStream) -> bool {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    tokens.iter().enumerate().any(|(index, token)| match token {
        TokenTree::Ident(ident) if ident == "Self" => {
            let is_path = matches!(tokens.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
            let mut before = tokens[..index].iter().rev();
            let behind_pointer = loop {
                match before.next() {
                    Some(TokenTree::Ident(word)) if word == "mut" || word == "const" => continue,
                    // `&'a`: the lifetime's name, then its quote
                    Some(TokenTree::Ident(_)) => {
                        break matches!(before.next(), Some(TokenTree::Punct(p)) if p.as_char() == '\'')
                            && matches!(before.next(), Some(TokenTree::Punct(p)) if p.as_char() == '&');
                    }
                    Some(TokenTree::Punct(p)) => break p.as_char() == '&' || p.as_char() == '*',
                    _ => break false,
                }
            };
            !is_path && !behind_pointer
        }
        TokenTree::Group(group) => mentions_self_by_value(group.stream()),
        _ => false,
    })
}

/// `#[deprecated]` for the side the options deprecate.
fn deprecation(method: &Method, side: Side) -> Option<Attribute> {
    if method
        .attrs
        .iter()
        .any(|attr| attr.path().is_ident("deprecated"))
    {
        return None; // the user's own `#[deprecated]` is carried to every spelling
    }
    let note = match side {
        Side::Sync => method.deprecations.sync.as_ref()?,
        Side::Async => method.deprecations.async_.as_ref()?,
    };
    Some(parse_quote!(#[deprecated(note = #note)]))
}

/// A line appended to the docs of the derived twin, saying how it runs.
fn derived_doc(method: &Method) -> Vec<Attribute> {
    let (native, link) = (method.native_name().unraw(), method.native_name());
    let how = match method.native {
        Native::Async => format!(
            "*Blocking twin of [`{native}`](Self::{link}), derived by `#[auto_async]`: it drives \
             the native future through the bridge unless the implementor writes it.*"
        ),
        Native::Blocking => format!(
            "*Async twin of [`{native}`](Self::{link}), derived by `#[auto_async]`: it runs the \
             blocking method without stalling other tasks unless the implementor writes it.*"
        ),
        Native::Nonblocking => format!(
            "*Async twin of [`{native}`](Self::{link}), derived by `#[auto_async]`: a ready \
             future that calls it inline (declared `nonblocking`).*"
        ),
    };
    let mut attrs = Vec::new();
    if method.attrs.iter().any(|attr| attr.path().is_ident("doc")) {
        attrs.push(parse_quote!(#[doc = ""]));
    }
    attrs.push(parse_quote!(#[doc = #how]));
    attrs
}

/// In `Send` mode, a provided async body holds the receiver across its lifetime, so the receiver
/// must be sendable: `Self: Sync` for `&self`, `Self: Send` for `&mut self` and `self`. The
/// same bound goes on every signature that calls that body (view and handle methods).
/// A required async method has no such bound: its implementor's future must be `Send` itself.
fn add_send_bounds(model: &Model, method: &Method, sig: &mut Signature) {
    let provided = method.native != Native::Async || method.body.is_some();
    if model.options.local || !provided {
        return;
    }
    let bound: WherePredicate = match method.receiver {
        ReceiverKind::Shared => parse_quote!(Self: ::core::marker::Sync),
        ReceiverKind::Exclusive => parse_quote!(Self: ::core::marker::Send),
        ReceiverKind::Other => parse_quote!(Self: ::core::marker::Send + ::core::marker::Sync),
    };
    sig.generics.make_where_clause().predicates.push(bound);
}

/// `-> R` becomes `-> impl Future<Output = R> + Send` (without `Send` in local mode).
fn future_of(output: &ReturnType, local: bool) -> ReturnType {
    let ty: Type = match output {
        ReturnType::Default => parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    if local {
        parse_quote!(-> impl ::core::future::Future<Output = #ty>)
    } else {
        parse_quote!(-> impl ::core::future::Future<Output = #ty> + ::core::marker::Send)
    }
}

/// `Trait<'x, K, N>`: the trait with its own parameters as arguments.
fn trait_ref(model: &Model) -> TokenStream {
    let ident = &model.item.ident;
    let (_, args, _) = model.item.generics.split_for_impl();
    quote!(#ident #args)
}

/// `::<T, N>` for a method's type and const parameters (lifetimes are inferred).
fn turbofish(sig: &Signature) -> TokenStream {
    let params = rest_args(&sig.generics);
    if params.is_empty() {
        TokenStream::new()
    } else {
        quote!(::<#(#params),*>)
    }
}

/// The names of the type and const parameters, as arguments in declaration order. Lifetimes
/// are left out: they come first in a parameter list, or are inferred in a call.
fn rest_args(generics: &syn::Generics) -> Vec<&Ident> {
    generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(param) => Some(&param.ident),
            GenericParam::Const(param) => Some(&param.ident),
            GenericParam::Lifetime(_) => None,
        })
        .collect()
}

/// The trait's generic parameters around extra ones, for the generated structs and impls:
/// `'extra.., 'x.., Extra.., K.., const N: usize..`. Bounds are kept for impls, dropped for
/// struct definitions; defaults are always dropped.
fn params(
    generics: &syn::Generics,
    lifetimes: &[TokenStream],
    types: &[TokenStream],
    bounds: bool,
) -> TokenStream {
    let mut own_lifetimes = Vec::new();
    let mut rest = Vec::new();
    for param in &generics.params {
        match param.clone() {
            GenericParam::Lifetime(mut param) => {
                if !bounds {
                    param.colon_token = None;
                    param.bounds.clear();
                }
                own_lifetimes.push(param.into_token_stream());
            }
            GenericParam::Type(mut param) => {
                param.eq_token = None;
                param.default = None;
                if !bounds {
                    // Without the trait's bounds, but never requiring more than it does.
                    param.colon_token = Some(Default::default());
                    param.bounds = parse_quote!(?::core::marker::Sized);
                }
                rest.push(param.into_token_stream());
            }
            GenericParam::Const(mut param) => {
                param.eq_token = None;
                param.default = None;
                rest.push(param.into_token_stream());
            }
        }
    }
    quote!(#(#lifetimes,)* #(#own_lifetimes,)* #(#types,)* #(#rest,)*)
}

/// The trait's parameters as arguments around one extra type argument, in the order of
/// [`params`]: `'x.., Extra, K.., N..`.
fn args(generics: &syn::Generics, extra: TokenStream) -> TokenStream {
    let lifetimes = generics.lifetimes().map(|param| &param.lifetime);
    let rest = rest_args(generics);
    quote!(#(#lifetimes,)* #extra, #(#rest,)*)
}

/// `PhantomData` over the trait's lifetimes and types, so that generated structs use them all.
fn phantom(generics: &syn::Generics) -> TokenStream {
    let lifetimes = generics.lifetimes().map(|param| &param.lifetime);
    let types = generics.type_params().map(|param| &param.ident);
    quote! {
        ::core::marker::PhantomData<
            fn() -> (#(&#lifetimes (),)* #(::core::marker::PhantomData<#types>,)*)
        >
    }
}

/// The trait's `where` predicates, for impls on the generated structs (`Self` becomes `__T`).
fn where_predicates(model: &Model) -> TokenStream {
    let predicates = model
        .item
        .generics
        .where_clause
        .as_ref()
        .map(|clause| clause.predicates.to_token_stream())
        .unwrap_or_default();
    replace_self(predicates)
}

/// Attributes carried to the view methods: docs, `cfg` and the user's `deprecated`.
fn doc_and_cfg(method: &Method) -> impl Iterator<Item = &Attribute> {
    method.attrs.iter().filter(|attr| {
        let path = attr.path();
        path.is_ident("doc") || path.is_ident("cfg") || path.is_ident("deprecated")
    })
}

/// The user's own `#[deprecated]`, carried to the handle methods.
fn user_deprecated(method: &Method) -> impl Iterator<Item = &Attribute> {
    method
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("deprecated"))
}

fn cfgs(method: &Method) -> impl Iterator<Item = &Attribute> {
    method
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
}

/// The async view: `x.a().m(args)` is `x.am(args)`, `x.a_mut().m(args)` the same for
/// `&mut self` methods.
fn view(model: &Model) -> TokenStream {
    let vis = &model.item.vis;
    let view = &model.view;
    let generics = &model.item.generics;
    let trait_ref = trait_ref(model);
    let name = model.item.ident.unraw();
    let struct_params = params(generics, &[], &[quote!(__R)], false);
    let phantom = phantom(generics);
    let lifetime = [quote!('__a)];
    let plain_params = params(
        generics,
        &lifetime,
        &[quote!(__T: ?::core::marker::Sized)],
        false,
    );
    let impl_params = replace_self(params(
        generics,
        &lifetime,
        &[quote!(__T: ?::core::marker::Sized + #trait_ref)],
        true,
    ));
    let predicates = where_predicates(model);
    let shared = args(generics, quote!(&'__a __T));
    let exclusive = args(generics, quote!(&'__a mut __T));
    let shared_methods = model
        .methods()
        .filter(|method| method.receiver == ReceiverKind::Shared)
        .map(|method| view_method(model, method));
    let doc = format!(
        "The async view of a [`{name}`], returned by [`{name}::a`]: the definition's method \
         names, every call a future.\n\n`x.a().m(args).await` does exactly what \
         `x.am(args).await` does; the view is a reference and costs nothing."
    );
    let mut tokens = quote! {
        #[doc = #doc]
        #vis struct #view<#struct_params> {
            target: __R,
            marker: #phantom,
        }

        impl<#plain_params> ::core::clone::Clone for #view<#shared> {
            #[inline]
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<#plain_params> ::core::marker::Copy for #view<#shared> {}

        #[allow(deprecated)]
        impl<#impl_params> #view<#shared> where #predicates {
            #(#shared_methods)*
        }
    };
    if model.has_exclusive_methods() {
        let methods = model
            .methods()
            .filter(|method| method.receiver != ReceiverKind::Other)
            .map(|method| view_method(model, method));
        tokens.extend(quote! {
            #[allow(deprecated)]
            impl<#impl_params> #view<#exclusive> where #predicates {
                #(#methods)*
            }
        });
    }
    tokens
}

/// One method of the view: the definition's name, the async twin's future.
fn view_method(model: &Model, method: &Method) -> TokenStream {
    let vis = &model.item.vis;
    let trait_ref = trait_ref(model);
    let view_lifetime: Lifetime = parse_quote!('__a);
    let mut sig = method.sig.clone();
    sig.ident = method.sync_name.clone();
    sig.inputs = method.params.clone();
    if let Some(first) = sig.inputs.first_mut() {
        *first = parse_quote!(self);
    }
    if let Some(receiver) = &method.receiver_lifetime {
        let own = |param: &GenericParam| matches!(param, GenericParam::Lifetime(p) if p.lifetime == *receiver);
        if sig.generics.params.iter().any(own) {
            // The method's own lifetime for `self` becomes the view's borrow.
            sig.generics.params = std::mem::take(&mut sig.generics.params)
                .into_iter()
                .filter(|param| !own(param))
                .collect();
            SelfLifetimes::renamed(receiver.clone(), view_lifetime.clone())
                .visit_signature_mut(&mut sig);
        } else {
            // `self` is borrowed for a lifetime of the trait's: the view's borrow must cover it.
            let bound: WherePredicate = parse_quote!(#view_lifetime: #receiver);
            sig.generics.make_where_clause().predicates.push(bound);
        }
    }
    if let ReturnType::Type(_, ty) = &mut sig.output {
        SelfLifetimes::elided(view_lifetime).visit_type_mut(ty);
    }
    sig.output = future_of(&sig.output, model.options.local);
    add_send_bounds(model, method, &mut sig);
    add_sized_bound(method, &mut sig);
    let attrs = doc_and_cfg(method);
    let deprecated = deprecation(method, Side::Async);
    let twin = &method.async_name;
    let spelling = format!(
        "*`x.a().{}(..)` is [`x.{twin}(..)`]({}::{twin}).*",
        method.sync_name.unraw(),
        model.item.ident.unraw(),
    );
    let separator = method
        .attrs
        .iter()
        .any(|attr| attr.path().is_ident("doc"))
        .then(|| quote!(#[doc = ""]));
    let turbofish = turbofish(&method.sig);
    let args = &method.args;
    replace_self(quote! {
        #(#attrs)*
        #separator
        #[doc = #spelling]
        #deprecated
        #[inline]
        #vis #sig {
            <__T as #trait_ref>::#twin #turbofish(self.target #(, #args)*)
        }
    })
}

/// Method handles: `x.m.as_sync(args)` and `x.m.as_async(args).await`, for `&self` methods.
fn handles(model: &Model) -> TokenStream {
    let shared: Vec<&Method> = model
        .methods()
        .filter(|method| method.receiver == ReceiverKind::Shared)
        .collect();
    if shared.is_empty() {
        return TokenStream::new();
    }
    let vis = &model.item.vis;
    let (handles, handle) = (&model.handles, &model.handle);
    let generics = &model.item.generics;
    let name = model.item.ident.unraw();
    let struct_params = params(generics, &[], &[quote!(__P)], false);
    let handle_params = quote!(#struct_params const __M: usize);
    let target_args = args(generics, quote!(__P));
    let phantom = phantom(generics);
    let index = (0..shared.len()).map(Literal::usize_unsuffixed);
    let fields = shared.iter().zip(index.clone()).map(|(method, index)| {
        let cfgs = cfgs(method);
        let field = &method.sync_name;
        let doc = format!("The handle of [`{name}::{}`].", field.unraw());
        quote!(#(#cfgs)* #[doc = #doc] #vis #field: #handle<#target_args #index>)
    });
    let inits = shared.iter().map(|method| {
        let cfgs = cfgs(method);
        let field = &method.sync_name;
        quote! {
            #(#cfgs)*
            #field: #handle {
                target: ::core::clone::Clone::clone(&target),
                marker: ::core::marker::PhantomData,
            }
        }
    });
    let impls = shared
        .iter()
        .zip(index)
        .map(|(method, index)| handle_impl(model, method, index));
    let plain_params = params(generics, &[], &[quote!(__P)], false);
    let cloneable = params(generics, &[], &[quote!(__P: ::core::clone::Clone)], false);
    let handles_doc = format!(
        "Method handles of [`{name}`]: one field per `&self` method, so that a type that \
         dereferences to this struct offers `x.m.as_sync(args)` and `x.m.as_async(args).await`.\n\n\
         Build it once with [`new`]({handles}::new) from a cloneable pointer to the implementor \
         (an `Arc`, or a `&` reference) and dereference to it; it dereferences in turn to that \
         pointer, so `x.m(args)` and `x.a()` keep working. A call through a handle costs what \
         the direct call costs."
    );
    let handle_doc = format!(
        "One method handle of [`{name}`], a field of [`{handles}`]; `__M` says which method."
    );
    quote! {
        #[doc = #handles_doc]
        #vis struct #handles<#struct_params> {
            #(#fields,)*
            __target: __P,
        }

        #[doc = #handle_doc]
        #vis struct #handle<#handle_params> {
            target: __P,
            marker: #phantom,
        }

        impl<#cloneable> #handles<#target_args> {
            /// Builds the handles, each holding a clone of `target`.
            #vis fn new(target: __P) -> Self {
                Self {
                    #(#inits,)*
                    __target: target,
                }
            }
        }

        impl<#plain_params> ::core::ops::Deref for #handles<#target_args> {
            type Target = __P;

            #[inline]
            fn deref(&self) -> &__P {
                &self.__target
            }
        }

        #(#impls)*
    }
}

/// `as_sync` and `as_async` of one handle.
fn handle_impl(model: &Model, method: &Method, index: Literal) -> TokenStream {
    let vis = &model.item.vis;
    let handle = &model.handle;
    let generics = &model.item.generics;
    let trait_ref = trait_ref(model);
    let name = format!("{}::{}", model.item.ident.unraw(), method.sync_name.unraw());
    let impl_params = replace_self(params(
        generics,
        &[],
        &[
            quote!(__P),
            quote!(__T: ?::core::marker::Sized + #trait_ref),
        ],
        true,
    ));
    let target_args = args(generics, quote!(__P));
    let predicates = where_predicates(model);
    let cfgs = cfgs(method);
    let turbofish = turbofish(&method.sig);
    let args = &method.args;
    let spelling = |side: Side| {
        let mut sig = method.sig.clone();
        sig.inputs = method.params.clone();
        // What the call returns may borrow the implementor through the handle, so `__T` must
        // outlive that borrow, which needs a name (also given to the elided output lifetimes).
        let lifetime = method.receiver_lifetime.clone().unwrap_or_else(|| {
            let lifetime: Lifetime = parse_quote!('__s);
            sig.generics.params.insert(0, parse_quote!(#lifetime));
            lifetime
        });
        let bound: WherePredicate = parse_quote!(__T: #lifetime);
        sig.generics.make_where_clause().predicates.push(bound);
        let receiver: FnArg = parse_quote!(&#lifetime self);
        add_sized_bound(method, &mut sig);
        if let ReturnType::Type(_, ty) = &mut sig.output {
            SelfLifetimes::elided(lifetime.clone()).visit_type_mut(ty);
        }
        let (ident, twin, doc) = match side {
            Side::Sync => (
                "as_sync",
                &method.sync_name,
                format!("Calls [`{name}`], blocking."),
            ),
            Side::Async => {
                sig.output = future_of(&sig.output, model.options.local);
                add_send_bounds(model, method, &mut sig);
                let doc = format!("Calls the async twin of [`{name}`].");
                ("as_async", &method.async_name, doc)
            }
        };
        if let Some(first) = sig.inputs.first_mut() {
            *first = receiver;
        }
        sig.ident = Ident::new(ident, Span::call_site());
        let deprecated = deprecation(method, side);
        let user_deprecated = user_deprecated(method);
        quote! {
            #[doc = #doc]
            #(#user_deprecated)*
            #deprecated
            #[inline]
            #vis #sig {
                <__T as #trait_ref>::#twin #turbofish(
                    ::core::ops::Deref::deref(&self.target) #(, #args)*
                )
            }
        }
    };
    let as_sync = replace_self(spelling(Side::Sync));
    let as_async = replace_self(spelling(Side::Async));
    quote! {
        #(#cfgs)*
        #[allow(deprecated)]
        impl<#impl_params> #handle<#target_args #index>
        where
            __P: ::core::ops::Deref<Target = __T>,
            #predicates
        {
            #as_sync
            #as_async
        }
    }
}

/// Gives what borrowed `self` in the definition the lifetime of the generated method's own
/// borrow (`'__a` in a view, the receiver's in a handle): either a named receiver lifetime is
/// renamed everywhere, or elided lifetimes (`&T`, `'_`) are filled in, in the return type only,
/// and not inside `fn(..)` types or `Fn(..)` bounds, which elide on their own.
struct SelfLifetimes {
    /// The receiver's named lifetime, to rename; `None` to fill elided lifetimes instead.
    renamed: Option<Lifetime>,
    to: Lifetime,
}

impl SelfLifetimes {
    fn renamed(from: Lifetime, to: Lifetime) -> Self {
        SelfLifetimes {
            renamed: Some(from),
            to,
        }
    }

    fn elided(to: Lifetime) -> Self {
        SelfLifetimes { renamed: None, to }
    }
}

impl VisitMut for SelfLifetimes {
    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        let hit = match &self.renamed {
            Some(renamed) => lifetime == renamed,
            None => lifetime.ident == "_",
        };
        if hit {
            *lifetime = self.to.clone();
        }
    }

    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        if self.renamed.is_none() && reference.lifetime.is_none() {
            reference.lifetime = Some(self.to.clone());
        }
        visit_mut::visit_type_reference_mut(self, reference);
    }

    fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}

    fn visit_parenthesized_generic_arguments_mut(
        &mut self,
        _: &mut syn::ParenthesizedGenericArguments,
    ) {
    }
}

/// Replaces `Self` with `__T`, the implementor's type parameter in the generated impls.
fn replace_self(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Ident(ident) if ident == "Self" => {
                TokenTree::Ident(format_ident!("__T", span = ident.span()))
            }
            TokenTree::Group(group) => {
                let mut replaced = Group::new(group.delimiter(), replace_self(group.stream()));
                replaced.set_span(group.span());
                TokenTree::Group(replaced)
            }
            other => other,
        })
        .collect()
}
