//! Code generation from the model: the trait with both twins of every method, the async view
//! (`a()` / `a_mut()`), the method handles, and on request the trait object support (`dyn`)
//! and the forwarding impls (`forward(Type)`).
//!
//! Generated code refers to the runtime only through `{crate}::__private`, contains no `unsafe`,
//! and keeps user bodies as tokens (an async default body is wrapped, never rewritten).

use proc_macro2::{Delimiter, Group, Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;
use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};
use syn::{
    Attribute, Block, FnArg, GenericParam, Ident, Lifetime, ReturnType, Signature, TraitItem,
    TraitItemFn, Type, WherePredicate, parse_quote,
};

use crate::model::{
    Entry, Method, Model, Native, ReceiverKind, dispatchable, is_self, receiver_kind,
};

/// Which twin of a method is being generated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Sync,
    Async,
}

/// Which inputs a twin's signature takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Inputs {
    /// As the user wrote them, patterns included (the native side with the user's body).
    Written,
    /// Plain names only, so that a body can pass each argument on.
    Passed,
}

mod forwarding;

pub(crate) fn expand(model: &Model) -> TokenStream {
    let definition = definition(model);
    let view = view(model);
    let handles = handles(model);
    let dyn_support = forwarding::dyn_support(model);
    let forward = forwarding::forward_impls(model);
    quote! { #definition #view #handles #dyn_support #forward }
}

impl Method {
    fn native_side(&self) -> Side {
        match self.native {
            Native::Async => Side::Async,
            Native::Blocking | Native::Nonblocking => Side::Sync,
        }
    }

    /// Whether the form for `side` has a body in the trait (a derived twin or a default body).
    fn has_body(&self, side: Side) -> bool {
        side != self.native_side() || self.body.is_some()
    }

    fn name(&self, side: Side) -> &Ident {
        match side {
            Side::Sync => &self.sync_name,
            Side::Async => &self.async_name,
        }
    }

    /// Whether this form is one a trait object calls through its vtable (a `dyn` trait): the
    /// blocking form directly, the async form boxed through the trait's `Dyn` supertrait.
    fn in_vtable(&self, model: &Model) -> bool {
        model.is_dyn() && self.dispatchable
    }
}

/// The trait itself: both twins of every method, then `a()` (and `a_mut()`).
fn definition(model: &Model) -> TokenStream {
    let mut item = model.item.clone();
    if model.is_dyn() {
        let entries = &model.dyn_entries;
        item.supertraits.push(parse_quote!(#entries));
    }
    for entry in &model.entries {
        match entry {
            Entry::Verbatim(TraitItem::Fn(method)) if model.is_dyn() => {
                let mut method = method.clone();
                if !dispatchable(&method.sig, receiver_kind(&method.sig)) {
                    sized(&mut method.sig);
                }
                item.items.push(TraitItem::Fn(method));
            }
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
    // In a `dyn` trait the view is for `Sized` implementors; a trait object's is its pointer's.
    let bound = model
        .is_dyn()
        .then(|| quote!(where Self: ::core::marker::Sized));
    if model.view_accessor {
        let doc = format!(
            "Returns the async view of this [`{name}`]: the definition's method names, every \
             call a future (`x.a().m(args).await` is `x.am(args).await`)."
        );
        item.items.push(parse_quote! {
            #[doc = #doc]
            #[inline]
            fn a(&self) -> #view<#shared> #bound {
                #view { target: self, marker: ::core::marker::PhantomData }
            }
        });
    }
    if model.has_exclusive_methods() && model.view_mut_accessor {
        let doc = format!(
            "Returns the async view of this [`{name}`] that can also call its `&mut self` methods."
        );
        item.items.push(parse_quote! {
            #[doc = #doc]
            #[inline]
            fn a_mut(&mut self) -> #view<#exclusive> #bound {
                #view { target: self, marker: ::core::marker::PhantomData }
            }
        });
    }
    item.into_token_stream()
}

/// The signature of one form of a method as the trait declares it: its name, its inputs, a
/// future as output for the async form, and the bounds its body or its callers need.
fn form_sig(model: &Model, method: &Method, side: Side, inputs: Inputs) -> Signature {
    let mut sig = method.sig.clone();
    if inputs == Inputs::Passed {
        sig.inputs = method.params.clone();
    }
    sig.ident = method.name(side).clone();
    if side == Side::Async {
        sig.output = future_of(&sig.output, model.options.local);
    }
    // The blocking form of a provided async method runs that method's body: same bounds.
    if side == Side::Async || method.native == Native::Async && method.body.is_some() {
        add_send_bounds(model, method, &mut sig);
    }
    let moves_self = method.receiver == ReceiverKind::Value && method.has_body(side);
    let sized_for_dyn = model.is_dyn() && (side == Side::Async || !method.dispatchable);
    if moves_self || returns_self(method) || sized_for_dyn {
        sized(&mut sig);
    }
    if side == Side::Async && method.in_vtable(model) {
        Lifetimes::unified(&mut sig, &future_lifetime());
    }
    sig
}

/// One twin of a method, as a trait item: required when it is the native side without a default
/// body, provided otherwise.
fn twin(model: &Model, method: &Method, side: Side) -> TraitItemFn {
    let native = side == method.native_side();
    let mut sig = form_sig(
        model,
        method,
        side,
        if native && !(side == Side::Async && method.body.is_some()) {
            Inputs::Written
        } else {
            Inputs::Passed
        },
    );
    let mut attrs = if native {
        method.attrs.clone()
    } else {
        let mut attrs = generated(&method.attrs);
        attrs.extend(derived_doc(method));
        attrs.push(parse_quote!(#[allow(deprecated)]));
        attrs
    };
    attrs.extend(deprecation(method, side));
    let default = match (&method.body, native, side) {
        (_, false, _) => {
            let body = bridge_body(model, method);
            Some(parse_quote!({ #body }))
        }
        (None, true, _) => None,
        (Some(body), true, Side::Sync) => Some(body.clone()),
        (Some(body), true, Side::Async) => {
            // As an `async fn` does, the future owns every argument until it completes: each
            // is passed by name and bound to its pattern inside the block; `mut self` stays.
            if let (Some(FnArg::Receiver(written)), Some(FnArg::Receiver(passed))) =
                (method.sig.inputs.first(), sig.inputs.first_mut())
            {
                passed.mutability = written.mutability;
            }
            Some(async_body(method, body))
        }
    };
    TraitItemFn {
        attrs,
        sig,
        semi_token: default.is_none().then(Default::default),
        default,
    }
}

/// `async move { .. }` around a default body of the async form. The declared return type is
/// given to the value (and to early `return`s) so that it coerces as in an `async fn`
/// (`Box<Iter>` to `Box<dyn Iterator>`); `impl Trait` parts are left to inference.
fn async_body(method: &Method, body: &Block) -> Block {
    let bindings = argument_bindings(method);
    let ReturnType::Type(_, ty) = &method.sig.output else {
        return parse_quote!({ async move { #(#bindings)* #body } });
    };
    let mut ty = (**ty).clone();
    InferImplTrait.visit_type_mut(&mut ty);
    parse_quote!({
        async move {
            if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<#ty> {
                #[allow(unreachable_code)]
                return __ret;
            }
            #(#bindings)*
            let __ret: #ty = #body;
            #[allow(unreachable_code)]
            __ret
        }
    })
}

/// Replaces `impl Trait` with `_`, which a `let` or a turbofish may leave to inference.
struct InferImplTrait;

impl VisitMut for InferImplTrait {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(_) = ty {
            *ty = parse_quote!(_);
        }
        visit_mut::visit_type_mut(self, ty);
    }
}

/// The body of the derived twin: a call of the native side through the bridge. In a `dyn`
/// trait, the blocking twin of a method in the vtable calls the bridge through the `Dyn`
/// supertrait, which can run the native future for any implementor.
fn bridge_body(model: &Model, method: &Method) -> TokenStream {
    if method.native == Native::Async && method.in_vtable(model) {
        let entries = &model.dyn_entries;
        let entry = forwarding::dyn_name(method, Side::Sync);
        let args = &method.args;
        return quote!(<Self as #entries>::#entry(self #(, #args)*));
    }
    bridge_call(model, method, &quote!(Self))
}

/// The bridge from one side to the other, for the implementor `implementor`.
fn bridge_call(model: &Model, method: &Method, implementor: &TokenStream) -> TokenStream {
    let krate = &model.options.krate;
    let trait_name = model.item.ident.unraw().to_string();
    let method_name = method.sig.ident.unraw().to_string();
    let trait_ref = trait_ref(model);
    let native = method.native_name();
    let turbofish = turbofish(&method.sig);
    let args = &method.args;
    let call = quote!(<#implementor as #trait_ref>::#native #turbofish(self #(, #args)*));
    let (block_on, blocking) = if model.options.local {
        (quote!(block_on_local), quote!(blocking_local))
    } else {
        (quote!(block_on), quote!(blocking))
    };
    match method.native {
        // Pinned where it is made: the bridge then moves a pointer, not the future (a large
        // future costs a copy at each move).
        Native::Async => quote!(#krate::__private::#block_on(
            #trait_name,
            #method_name,
            ::core::pin::pin!(#call)
        )),
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

/// `where Self: Sized`.
fn sized(sig: &mut Signature) {
    let bound: WherePredicate = parse_quote!(Self: ::core::marker::Sized);
    sig.generics.make_where_clause().predicates.push(bound);
}

/// Whether a method returns `Self` by value, which needs `Self: Sized` for its future's
/// `Output`, for the bridge, and for the view and handle methods that return it.
fn returns_self(method: &Method) -> bool {
    let ReturnType::Type(_, ty) = &method.sig.output else {
        return false;
    };
    let mut visitor = SelfByValue::default();
    visitor.visit_type(ty);
    visitor.found
}

/// Finds `Self` used as a type other than behind a reference or pointer (`&Self`, `*const
/// Self`) or as a path prefix (`Self::Item`).
#[derive(Default)]
struct SelfByValue {
    found: bool,
}

impl<'ast> Visit<'ast> for SelfByValue {
    fn visit_type(&mut self, ty: &'ast Type) {
        match ty {
            Type::Reference(_) | Type::Ptr(_) => {}
            ty if is_self(ty) => self.found = true,
            ty => visit::visit_type(self, ty),
        }
    }
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
/// must be sendable: `Self: Sync` for `&self`, `Self: Send` for `&mut self` and `self`, and
/// `Receiver: Send` for `self: Box<Self>` and the like. The same bound goes on every signature
/// that calls that body (the blocking twin, view and handle methods). A required async method
/// has no such bound: its implementor's future must be `Send` itself.
fn add_send_bounds(model: &Model, method: &Method, sig: &mut Signature) {
    let provided = method.native != Native::Async || method.body.is_some();
    if model.options.local || !provided {
        return;
    }
    let bound: WherePredicate = match method.receiver {
        ReceiverKind::Shared => parse_quote!(Self: ::core::marker::Sync),
        ReceiverKind::Exclusive | ReceiverKind::Value => parse_quote!(Self: ::core::marker::Send),
        ReceiverKind::Other => {
            let receiver = method.sig.receiver().map(|receiver| &receiver.ty);
            parse_quote!(#receiver: ::core::marker::Send)
        }
    };
    sig.generics.make_where_clause().predicates.push(bound);
}

/// `-> R` becomes `-> impl Future<Output = R> + Send` (without `Send` in local mode).
fn future_of(output: &ReturnType, local: bool) -> ReturnType {
    let ty = output_type(output);
    if local {
        parse_quote!(-> impl ::core::future::Future<Output = #ty>)
    } else {
        parse_quote!(-> impl ::core::future::Future<Output = #ty> + ::core::marker::Send)
    }
}

fn output_type(output: &ReturnType) -> Type {
    match output {
        ReturnType::Default => parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
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

/// The trait's `where` predicates, for impls of and on generated items, `Self` replaced.
fn where_predicates(model: &Model, implementor: &TokenStream) -> TokenStream {
    let predicates = model
        .item
        .generics
        .where_clause
        .as_ref()
        .map(|clause| clause.predicates.to_token_stream())
        .unwrap_or_default();
    replace_self(predicates, implementor)
}

/// Attributes carried to the view methods: docs, `cfg`, the user's `deprecated` and lints.
fn doc_and_cfg(method: &Method) -> impl Iterator<Item = Attribute> + '_ {
    method
        .attrs
        .iter()
        .filter(|attr| {
            let path = attr.path();
            path.is_ident("doc") || path.is_ident("cfg") || path.is_ident("deprecated")
        })
        .cloned()
        .chain(lints(&method.attrs))
}

/// The user's own `#[deprecated]`, carried to the handle methods.
fn user_deprecated(method: &Method) -> impl Iterator<Item = &Attribute> {
    method
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("deprecated"))
}

fn cfgs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|attr| attr.path().is_ident("cfg"))
}

/// The `cfg`s and lint levels of an item, for every generated item that stands for it.
fn cfgs_and_lints(attrs: &[Attribute]) -> Vec<Attribute> {
    cfgs(attrs).cloned().chain(lints(attrs)).collect()
}

const LINT_LEVELS: [&str; 5] = ["allow", "warn", "deny", "forbid", "expect"];

/// The lint levels among `attrs` (`allow`, `warn`, `deny`, `forbid`, `expect`), for generated
/// items: an `expect` becomes an `allow` there, since the lint it expects may fire on the
/// user's item and not on each generated one.
fn lints(attrs: &[Attribute]) -> impl Iterator<Item = Attribute> + '_ {
    attrs
        .iter()
        .filter(|attr| LINT_LEVELS.iter().any(|level| attr.path().is_ident(level)))
        .map(expect_as_allow)
}

/// The user's attributes for a generated form of their method (`expect` as `allow`).
fn generated(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs.iter().map(expect_as_allow).collect()
}

fn expect_as_allow(attr: &Attribute) -> Attribute {
    let mut attr = attr.clone();
    if attr.path().is_ident("expect") {
        if let syn::Meta::List(list) = &mut attr.meta {
            list.path = parse_quote!(allow);
        }
    }
    attr
}

/// The lifetime of a boxed future in a `dyn` trait, which every borrowed input outlives.
fn future_lifetime() -> Lifetime {
    parse_quote!('__f)
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
    // In a `dyn` trait the async twins are for `Sized` implementors only.
    let unsized_ = (!model.is_dyn()).then(|| quote!(?::core::marker::Sized+));
    let implementor = quote!(__T);
    let impl_params = replace_self(
        params(
            generics,
            &lifetime,
            &[quote!(__T: #unsized_ #trait_ref)],
            true,
        ),
        &implementor,
    );
    let predicates = where_predicates(model, &implementor);
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
            .filter(|method| {
                matches!(
                    method.receiver,
                    ReceiverKind::Shared | ReceiverKind::Exclusive
                )
            })
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
    let mut sig = form_sig(model, method, Side::Async, Inputs::Passed);
    sig.ident = method.sync_name.clone();
    let view_lifetime: Lifetime = parse_quote!('__a);
    if method.in_vtable(model) {
        // The twin's future borrows everything for one lifetime, which the view's outlives.
        let lifetime = future_lifetime();
        let bound: WherePredicate = parse_quote!(#view_lifetime: #lifetime);
        sig.generics.make_where_clause().predicates.push(bound);
    } else {
        borrow_from_target(&mut sig, method, &view_lifetime);
    }
    if let Some(first) = sig.inputs.first_mut() {
        *first = parse_quote!(self);
    }
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
    replace_self(
        quote! {
            #(#attrs)*
            #separator
            #[doc = #spelling]
            #deprecated
            #[inline]
            #vis #sig {
                <__T as #trait_ref>::#twin #turbofish(self.target #(, #args)*)
            }
        },
        &quote!(__T),
    )
}

/// Gives what borrowed `self` in the definition the lifetime `borrow` of the generated method's
/// own borrow of the implementor (the view's, or a handle's): a receiver lifetime of the
/// method's own is renamed; one of the trait's must be outlived by `borrow`; elided lifetimes of
/// the result are filled in.
fn borrow_from_target(sig: &mut Signature, method: &Method, borrow: &Lifetime) {
    if let Some(receiver) = &method.receiver_lifetime {
        let own = |param: &GenericParam| matches!(param, GenericParam::Lifetime(p) if p.lifetime == *receiver);
        if sig.generics.params.iter().any(own) {
            sig.generics.params = std::mem::take(&mut sig.generics.params)
                .into_iter()
                .filter(|param| !own(param))
                .collect();
            Lifetimes::renamed(receiver.clone(), borrow.clone()).visit_signature_mut(sig);
        } else {
            let bound: WherePredicate = parse_quote!(#borrow: #receiver);
            sig.generics.make_where_clause().predicates.push(bound);
        }
    }
    if let ReturnType::Type(_, ty) = &mut sig.output {
        Lifetimes::elided(borrow.clone()).visit_type_mut(ty);
    }
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
        let attrs = cfgs_and_lints(&method.attrs);
        let field = &method.sync_name;
        let doc = format!(
            "The handle of [`{name}::{0}`]: `x.{0}.as_sync(..)`, `x.{0}.as_async(..)`. To call \
             the method itself (`x.{0}(..)`), bring [`{name}`] into scope.",
            field.unraw()
        );
        quote!(#(#attrs)* #[doc = #doc] #vis #field: #handle<#target_args #index>)
    });
    let inits = shared.iter().map(|method| {
        let cfgs = cfgs(&method.attrs);
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
         pointer, so `x.m(args)` and `x.a()` keep working with the trait in scope, and \
         `#[auto_async(forward(Type))]` on the trait makes the type implement it. A call \
         through a handle costs what the direct call costs."
    );
    let handle_doc = format!(
        "One method handle of [`{name}`], a field of [`{handles}`]; `__M` says which method."
    );
    // rustc reads some lints of fields (`non_snake_case`) at the struct: the methods' `allow`s
    // go there too.
    let mut allows: Vec<String> = shared
        .iter()
        .flat_map(|method| lints(&method.attrs))
        .filter(|attr| attr.path().is_ident("allow"))
        .map(|attr| attr.to_token_stream().to_string())
        .collect();
    allows.sort();
    allows.dedup();
    let allows = allows
        .iter()
        .filter_map(|attr| attr.parse::<TokenStream>().ok());
    quote! {
        #[doc = #handles_doc]
        #(#allows)*
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
    let implementor = quote!(__T);
    let impl_params = replace_self(
        params(
            generics,
            &[],
            &[
                quote!(__P),
                quote!(__T: ?::core::marker::Sized + #trait_ref),
            ],
            true,
        ),
        &implementor,
    );
    let target_args = args(generics, quote!(__P));
    let predicates = where_predicates(model, &implementor);
    let cfgs = cfgs(&method.attrs);
    let lints: Vec<Attribute> = lints(&method.attrs).collect();
    let turbofish = turbofish(&method.sig);
    let args = &method.args;
    let spelling = |side: Side| {
        let mut sig = form_sig(model, method, side, Inputs::Passed);
        // What the call returns may borrow the implementor through the handle, so `__T` must
        // outlive that borrow, which needs a name (also given to the elided output lifetimes).
        let lifetime = if side == Side::Async && method.in_vtable(model) {
            future_lifetime()
        } else {
            let lifetime = method.receiver_lifetime.clone().unwrap_or_else(|| {
                let lifetime: Lifetime = parse_quote!('__s);
                sig.generics.params.insert(0, parse_quote!(#lifetime));
                lifetime
            });
            if let ReturnType::Type(_, ty) = &mut sig.output {
                Lifetimes::elided(lifetime.clone()).visit_type_mut(ty);
            }
            lifetime
        };
        let bound: WherePredicate = parse_quote!(__T: #lifetime);
        sig.generics.make_where_clause().predicates.push(bound);
        if let Some(first) = sig.inputs.first_mut() {
            *first = parse_quote!(&#lifetime self);
        }
        let (ident, doc) = match side {
            Side::Sync => ("as_sync", format!("Calls [`{name}`], blocking.")),
            Side::Async => ("as_async", format!("Calls the async twin of [`{name}`].")),
        };
        let twin = &sig.ident.clone();
        sig.ident = Ident::new(ident, Span::call_site());
        let deprecated = deprecation(method, side);
        let user_deprecated = user_deprecated(method);
        quote! {
            #[doc = #doc]
            #(#user_deprecated)*
            #deprecated
            #(#lints)*
            #[inline]
            #vis #sig {
                <__T as #trait_ref>::#twin #turbofish(
                    ::core::ops::Deref::deref(&self.target) #(, #args)*
                )
            }
        }
    };
    let as_sync = replace_self(spelling(Side::Sync), &implementor);
    let as_async = replace_self(spelling(Side::Async), &implementor);
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

/// Renames or fills in lifetimes of a signature for a generated method that borrows on its own
/// terms. Elided lifetimes inside `fn(..)` types and `Fn(..)` bounds are left alone: they are
/// higher-ranked.
struct Lifetimes {
    /// Lifetimes to rename to `to`.
    renamed: Vec<Lifetime>,
    /// Whether elided lifetimes (`&T`, `'_`) become `to`.
    elided: bool,
    to: Lifetime,
}

impl Lifetimes {
    /// `from` becomes `to` everywhere.
    fn renamed(from: Lifetime, to: Lifetime) -> Self {
        Lifetimes {
            renamed: vec![from],
            elided: false,
            to,
        }
    }

    /// Elided lifetimes become `to`.
    fn elided(to: Lifetime) -> Self {
        Lifetimes {
            renamed: Vec::new(),
            elided: true,
            to,
        }
    }

    /// Every lifetime of the method's own, and every elided one, becomes `to`, a new parameter
    /// of the method: the inputs and the future borrow for one lifetime, the shortest of the
    /// caller's (shared and exclusive references shrink to it). A boxed future, which has one
    /// lifetime, can then stand for the method's future.
    fn unified(sig: &mut Signature, to: &Lifetime) {
        let own: Vec<Lifetime> = sig
            .generics
            .lifetimes()
            .map(|param| param.lifetime.clone())
            .collect();
        sig.generics.params = std::mem::take(&mut sig.generics.params)
            .into_iter()
            .filter(|param| !matches!(param, GenericParam::Lifetime(_)))
            .collect();
        sig.generics.params.insert(0, parse_quote!(#to));
        let mut lifetimes = Lifetimes {
            renamed: own,
            elided: true,
            to: to.clone(),
        };
        sig.inputs
            .iter_mut()
            .for_each(|input| lifetimes.visit_fn_arg_mut(input));
        lifetimes.visit_return_type_mut(&mut sig.output);
        if let Some(clause) = &mut sig.generics.where_clause {
            lifetimes.elided = false;
            lifetimes.visit_where_clause_mut(clause);
        }
    }
}

impl VisitMut for Lifetimes {
    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if self.renamed.contains(lifetime) || self.elided && lifetime.ident == "_" {
            *lifetime = self.to.clone();
        }
    }

    fn visit_receiver_mut(&mut self, receiver: &mut syn::Receiver) {
        if let Some((_, lifetime @ None)) = &mut receiver.reference {
            if self.elided {
                *lifetime = Some(self.to.clone());
            }
        }
        visit_mut::visit_receiver_mut(self, receiver);
    }

    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        if self.elided && reference.lifetime.is_none() {
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

/// Replaces `Self` with `implementor` (`__T` in the generated impls, the pointer or the
/// forwarding type in forwarding impls).
fn replace_self(tokens: TokenStream, implementor: &TokenStream) -> TokenStream {
    let single = match implementor
        .clone()
        .into_iter()
        .collect::<Vec<_>>()
        .as_slice()
    {
        [TokenTree::Ident(ident)] => Some(ident.clone()),
        _ => None,
    };
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Ident(ident) if ident == "Self" => match &single {
                Some(single) => TokenTree::Ident(format_ident!("{single}", span = ident.span())),
                None => {
                    let mut group = Group::new(Delimiter::None, implementor.clone());
                    group.set_span(ident.span());
                    TokenTree::Group(group)
                }
            },
            TokenTree::Group(group) => {
                let mut replaced =
                    Group::new(group.delimiter(), replace_self(group.stream(), implementor));
                replaced.set_span(group.span());
                TokenTree::Group(replaced)
            }
            other => other,
        })
        .collect()
}
