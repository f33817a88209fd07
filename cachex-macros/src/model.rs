//! The validated model of an annotated trait: which side of each method is native, what the
//! twins are called, how arguments are passed on, which methods a trait object can call.
//!
//! Every misuse is reported here, with the user's own tokens as spans, and degrades quietly: an
//! invalid method is kept as written (without twins), a bad option is left out, an invalid
//! `dyn` or `forward` is not generated. The valid rest still expands fully, so that an impl
//! written against it gets no follow-up error, and expansion never has to fail.

use proc_macro2::Span;
use quote::{ToTokens, format_ident};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{
    Attribute, Block, FnArg, GenericParam, Ident, ItemTrait, Lifetime, Pat, PatIdent, Signature,
    Token, TraitItem, TraitItemFn, Type, TypeParamBound, WherePredicate,
};

use crate::parse::{Deprecations, Errors, MethodOptions, TraitOptions, is_helper};

/// An annotated trait, ready to expand.
pub(crate) struct Model {
    pub(crate) options: TraitOptions,
    /// The trait as written, without its items (they are in `entries`).
    pub(crate) item: ItemTrait,
    pub(crate) entries: Vec<Entry>,
    /// Name of the async view struct (`{Trait}Async`).
    pub(crate) view: Ident,
    /// Names of the method handle structs (`{Trait}Handles`, `{Trait}Handle`).
    pub(crate) handles: Ident,
    pub(crate) handle: Ident,
    /// With `dyn`: the hidden supertrait holding the trait object's entries (`{Trait}Dyn`) and
    /// the marker of the trait object types (`{Trait}Object`).
    pub(crate) dyn_entries: Ident,
    pub(crate) object: Ident,
    /// Whether `a()` and `a_mut()` are generated (not when the trait declares them itself).
    pub(crate) view_accessor: bool,
    pub(crate) view_mut_accessor: bool,
}

/// One item of the trait, in its original order.
pub(crate) enum Entry {
    /// A method that gets twins.
    Method(Method),
    /// Anything emitted as written: associated types and consts, skipped or invalid methods,
    /// macros.
    Verbatim(TraitItem),
}

/// Which side of a method the implementor writes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Native {
    /// `async fn m`: implementors write `async fn am`; blocking `m` is bridged.
    Async,
    /// `fn m`: implementors write `fn m`; `am` runs it without stalling other tasks.
    Blocking,
    /// `#[auto_async(nonblocking)] fn m`: `am` calls `m` inline.
    Nonblocking,
}

/// How the method takes `self`, which decides where it can be called from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReceiverKind {
    /// `&self`: on the view from `a()` and on handles.
    Shared,
    /// `&mut self`: on the view from `a_mut()`.
    Exclusive,
    /// `self` (by value): only as `m`/`am`, and only for `Sized` implementors.
    Value,
    /// `self: Box<Self>`, `self: Arc<Self>`, ...: only as `m`/`am`.
    Other,
}

pub(crate) struct Method {
    /// Attributes carried to both twins (helper attributes removed).
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) native: Native,
    /// The signature as written, without `async`.
    pub(crate) sig: Signature,
    /// A default body, written for the native side.
    pub(crate) body: Option<Block>,
    pub(crate) receiver: ReceiverKind,
    /// The receiver's lifetime when it is named (`&'s self`).
    pub(crate) receiver_lifetime: Option<Lifetime>,
    /// Inputs with every argument pattern replaced by the name the twin passes on.
    pub(crate) params: Punctuated<FnArg, Token![,]>,
    /// Names of the arguments, in order, without the receiver.
    pub(crate) args: Vec<Ident>,
    /// `m` and `am`.
    pub(crate) sync_name: Ident,
    pub(crate) async_name: Ident,
    pub(crate) deprecations: Deprecations,
    /// Whether a trait object can call this method (see [`dispatchable`]).
    pub(crate) dispatchable: bool,
    /// The method as written, to emit when a later check finds it invalid.
    original: Box<TraitItemFn>,
}

impl Model {
    /// Validates the trait against the macro's rules. Every misuse found is pushed to `errors`,
    /// and the model keeps what is valid.
    pub(crate) fn build(options: TraitOptions, mut item: ItemTrait, errors: &mut Errors) -> Self {
        let mut entries = Vec::with_capacity(item.items.len());
        for trait_item in std::mem::take(&mut item.items) {
            let TraitItem::Fn(mut method) = trait_item else {
                entries.push(Entry::Verbatim(trait_item));
                continue;
            };
            let method_options = MethodOptions::take(&mut method.attrs, errors);
            if method_options.skip.is_some() {
                if let Some(nonblocking) = &method_options.nonblocking {
                    errors.push(syn::Error::new_spanned(
                        nonblocking,
                        "`nonblocking` has no effect on a skipped method",
                    ));
                }
                entries.push(Entry::Verbatim(TraitItem::Fn(method)));
                continue;
            }
            let deprecations = method_options.deprecations.or(&options.deprecations);
            match Method::build(method.clone(), method_options, deprecations, errors) {
                Ok(method) => entries.push(Entry::Method(method)),
                Err(err) => {
                    errors.push(err);
                    entries.push(verbatim(method));
                }
            }
        }
        let name = item.ident.unraw();
        let mut model = Model {
            view: format_ident!("{name}Async"),
            handles: format_ident!("{name}Handles"),
            handle: format_ident!("{name}Handle"),
            dyn_entries: format_ident!("{name}Dyn"),
            object: format_ident!("{name}Object"),
            view_accessor: true,
            view_mut_accessor: true,
            options,
            item,
            entries,
        };
        model.drop_duplicates(errors);
        model.check_names(errors);
        if errors.is_empty() {
            // Checked only on an otherwise valid trait, so that a misuse gets one error.
            model.check_dyn(errors);
            model.check_forward(errors);
        } else {
            model.options.dyn_ = None;
            model.options.forward.clear();
        }
        model
    }

    pub(crate) fn methods(&self) -> impl Iterator<Item = &Method> {
        self.entries.iter().filter_map(|entry| match entry {
            Entry::Method(method) => Some(method),
            Entry::Verbatim(_) => None,
        })
    }

    /// Whether the trait has `&mut self` methods, and so an `a_mut()` view.
    pub(crate) fn has_exclusive_methods(&self) -> bool {
        self.methods()
            .any(|method| method.receiver == ReceiverKind::Exclusive)
    }

    /// Whether the trait can be a trait object (`dyn`, checked).
    pub(crate) fn is_dyn(&self) -> bool {
        self.options.dyn_.is_some()
    }

    /// The names the trait declares in the value namespace, each with its `cfg`s and index.
    fn declared(&self) -> Vec<(String, Ident, Vec<String>, usize)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| {
                let (ident, attrs) = match entry {
                    Entry::Method(method) => (&method.sig.ident, &method.attrs),
                    Entry::Verbatim(TraitItem::Fn(method)) => (&method.sig.ident, &method.attrs),
                    Entry::Verbatim(TraitItem::Const(constant)) => {
                        (&constant.ident, &constant.attrs)
                    }
                    Entry::Verbatim(_) => return None,
                };
                Some((ident.unraw().to_string(), ident.clone(), cfgs(attrs), index))
            })
            .collect()
    }

    /// A name declared twice under the same `cfg`s: the later item is reported and left out,
    /// so that neither rustc nor the twins' checks report it again.
    fn drop_duplicates(&mut self, errors: &mut Errors) {
        let declared = self.declared();
        let mut dropped = Vec::new();
        for (position, (name, ident, cfgs, index)) in declared.iter().enumerate() {
            let earlier = declared[..position]
                .iter()
                .find(|(other, _, other_cfgs, _)| other == name && !exclusive(cfgs, other_cfgs));
            if earlier.is_some() {
                errors.push(syn::Error::new_spanned(
                    ident,
                    format!("`{name}` is declared twice in this trait; remove or rename one"),
                ));
                dropped.push(*index);
            }
        }
        let mut index = 0;
        self.entries.retain(|_| {
            index += 1;
            !dropped.contains(&(index - 1))
        });
    }

    /// Generated names must not collide with anything declared in the trait, with each other,
    /// nor with the names the expansion reserves. Two items under different `cfg`s may share
    /// a name: they are alternatives, never compiled together. A method whose twin would clash
    /// is kept as written, without twins; a method named like the view's accessor replaces it.
    fn check_names(&mut self, errors: &mut Errors) {
        let declared = self.declared();
        let has_exclusive = self.has_exclusive_methods();
        let has_shared = self
            .methods()
            .any(|method| method.receiver == ReceiverKind::Shared);
        let mut reserved = vec![("a", "the async view")];
        if has_exclusive {
            reserved.push(("a_mut", "the async view of `&mut self` methods"));
        }
        if has_shared {
            reserved.push(("__target", "a field of the method handles"));
        }
        let mut degraded = Vec::new();
        for (name, ident, _, index) in &declared {
            if let Some((_, what)) = reserved.iter().find(|(reserved, _)| reserved == name) {
                errors.push(syn::Error::new_spanned(
                    ident,
                    format!(
                        "`{name}` is the name of {what} that `#[auto_async]` generates; \
                         rename this method"
                    ),
                ));
                match name.as_str() {
                    "a" => self.view_accessor = false,
                    "a_mut" => self.view_mut_accessor = false,
                    _ => {}
                }
                degraded.push(*index);
            }
        }
        for (index, entry) in self.entries.iter().enumerate() {
            let Entry::Method(method) = entry else {
                continue;
            };
            let twin = method.async_name.unraw().to_string();
            let own = cfgs(&method.attrs);
            let clash = if let Some((_, what)) = reserved.iter().find(|(r, _)| *r == twin) {
                Some(format!("{what} that `#[auto_async]` generates"))
            } else {
                declared
                    .iter()
                    .find(|(other, _, cfgs, _)| *other == twin && !exclusive(&own, cfgs))
                    .map(|(other, ..)| format!("a method this trait already declares (`{other}`)"))
            };
            if let Some(clash) = clash {
                errors.push(syn::Error::new_spanned(
                    &method.sig.ident,
                    format!(
                        "the async twin of `{}` is named `{twin}`, which is also {clash}; \
                         rename one of them",
                        method.sig.ident.unraw()
                    ),
                ));
                degraded.push(index);
            }
        }
        for index in degraded {
            if let Some(entry) = self.entries.get_mut(index) {
                if let Entry::Method(method) = entry {
                    *entry = verbatim((*method.original).clone());
                }
            }
        }
    }

    /// `dyn`: the trait must be one a trait object can implement by forwarding every required
    /// method to its vtable. Otherwise the error says why, and no trait object support is
    /// generated.
    fn check_dyn(&mut self, errors: &mut Errors) {
        let Some(token) = self.options.dyn_.clone() else {
            return;
        };
        let mut problems = Vec::new();
        if let Some(param) = self.item.generics.params.first() {
            problems.push(syn::Error::new_spanned(
                param,
                "`dyn` needs a trait without generic parameters: a boxed future cannot name \
                 the lifetime of every parameter",
            ));
        }
        let shareable = has_bound(&self.item, "Send") && has_bound(&self.item, "Sync");
        if !self.options.local && !shareable {
            problems.push(syn::Error::new_spanned(
                &token,
                "`dyn` needs `Send + Sync` supertraits, so that a trait object can be shared by \
                 async tasks (or write `local` for futures that are not `Send`)",
            ));
        }
        for entry in &self.entries {
            let problem = match entry {
                Entry::Verbatim(TraitItem::Const(constant)) => Some((
                    constant.ident.to_token_stream(),
                    "an associated const cannot be read through a trait object",
                )),
                Entry::Verbatim(TraitItem::Type(ty)) if !ty.generics.params.is_empty() => Some((
                    ty.ident.to_token_stream(),
                    "a generic associated type cannot be named by a trait object",
                )),
                Entry::Verbatim(TraitItem::Fn(method))
                    if method.default.is_none()
                        && !dispatchable(&method.sig, receiver_kind(&method.sig)) =>
                {
                    Some((
                        method.sig.ident.to_token_stream(),
                        "a trait object cannot call this method, so `Box<dyn ..>` cannot \
                         implement it: give it a default body, or move it to another trait",
                    ))
                }
                Entry::Method(method) if !method.dispatchable && method.body.is_none() => Some((
                    method.sig.ident.to_token_stream(),
                    "a generic method, or one that takes `self` by value or mentions `Self`, is \
                     left out of the trait object's vtable, so `Box<dyn ..>` cannot implement \
                     it: give it a default body, or move it to another trait",
                )),
                _ => None,
            };
            if let Some((tokens, message)) = problem {
                problems.push(syn::Error::new_spanned(tokens, format!("`dyn`: {message}")));
            }
        }
        if !problems.is_empty() {
            problems
                .into_iter()
                .for_each(|problem| errors.push(problem));
            self.options.dyn_ = None;
        }
    }

    /// `forward(Type)`: every required item must be callable through `&self`.
    fn check_forward(&mut self, errors: &mut Errors) {
        if self.options.forward.is_empty() {
            return;
        }
        let mut problems = Errors::default();
        if !self
            .methods()
            .any(|method| method.receiver == ReceiverKind::Shared)
        {
            for ty in &self.options.forward {
                problems.push(syn::Error::new_spanned(
                    ty,
                    "`forward`: the trait has no `&self` method, so no handles to forward to",
                ));
            }
        }
        for entry in &self.entries {
            let (sig, receiver, required) = match entry {
                Entry::Method(method) => (&method.sig, method.receiver, method.body.is_none()),
                Entry::Verbatim(TraitItem::Fn(method)) => (
                    &method.sig,
                    receiver_kind(&method.sig),
                    method.default.is_none(),
                ),
                Entry::Verbatim(_) => continue,
            };
            if required && (receiver != ReceiverKind::Shared || mentions_self(sig)) {
                problems.push(syn::Error::new_spanned(
                    &sig.ident,
                    "`forward`: a type forwards to its handles through `&self`, so it cannot \
                     implement a required method that takes `&mut self`, `self` or no receiver, \
                     or that mentions `Self` (which would be the forwarding type)",
                ));
            }
        }
        if !problems.is_empty() {
            errors.extend(problems);
            self.options.forward.clear();
        }
    }
}

/// A method emitted as written, without its twins (a misuse). An `async fn` stays one, with
/// rustc's lint about `async fn` in public traits silenced: the error already says what to fix.
fn verbatim(mut method: TraitItemFn) -> Entry {
    method.attrs.retain(|attr| !is_helper(attr));
    if method.sig.asyncness.is_some() {
        method
            .attrs
            .push(syn::parse_quote!(#[allow(async_fn_in_trait)]));
    }
    Entry::Verbatim(TraitItem::Fn(method))
}

/// Whether the trait lists `name` (`Send`, `Sync`) among its supertraits.
fn has_bound(item: &ItemTrait, name: &str) -> bool {
    item.supertraits.iter().any(|bound| {
        matches!(bound, TypeParamBound::Trait(bound)
            if bound.path.segments.last().is_some_and(|segment| segment.ident == name))
    })
}

/// The `cfg` attributes of an item, as text, to compare.
fn cfgs(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .map(|attr| attr.to_token_stream().to_string())
        .collect()
}

/// Whether two items are under different `cfg`s, and so never compiled together.
fn exclusive(first: &[String], second: &[String]) -> bool {
    !first.is_empty() && !second.is_empty() && first != second
}

impl Method {
    /// The method's model; an `Err` when it can have no twins (it is then kept as written).
    /// `nonblocking` on an `async fn` is reported in `errors` and left out.
    fn build(
        method: TraitItemFn,
        options: MethodOptions,
        deprecations: Deprecations,
        errors: &mut Errors,
    ) -> syn::Result<Self> {
        let original = Box::new(method.clone());
        let TraitItemFn {
            attrs,
            mut sig,
            default,
            ..
        } = method;
        let native = match (sig.asyncness.take(), options.nonblocking) {
            (Some(_), Some(nonblocking)) => {
                errors.push(syn::Error::new_spanned(
                    nonblocking,
                    "`nonblocking` is for blocking methods: an `async fn` is already native \
                     async, and its blocking twin is bridged",
                ));
                Native::Async
            }
            (Some(_), None) => Native::Async,
            (None, Some(_)) => Native::Nonblocking,
            (None, None) => Native::Blocking,
        };
        if let Some(unsafety) = &sig.unsafety {
            return Err(syn::Error::new_spanned(
                unsafety,
                "`#[auto_async]` does not derive twins of `unsafe fn`; \
                 mark the method `#[auto_async(skip)]` to leave it alone",
            ));
        }
        if let Some(abi) = &sig.abi {
            return Err(syn::Error::new_spanned(
                abi,
                "`#[auto_async]` does not derive twins of `extern` methods; \
                 mark the method `#[auto_async(skip)]` to leave it alone",
            ));
        }
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            if let Type::Never(never) = &**ty {
                return Err(syn::Error::new_spanned(
                    never,
                    "a method that never returns (`-> !`) has no async twin; \
                     mark it `#[auto_async(skip)]` to leave it alone",
                ));
            }
        }
        let Some(receiver) = sig.receiver() else {
            return Err(syn::Error::new_spanned(
                &sig.ident,
                format!(
                    "`{}` has no `self` receiver, so it has no blocking or async twin; \
                     mark it `#[auto_async(skip)]` to leave it alone",
                    sig.ident.unraw()
                ),
            ));
        };
        let receiver_lifetime = match &*receiver.ty {
            Type::Reference(reference) => reference.lifetime.clone(),
            _ => None,
        };
        let receiver = receiver_kind(&sig);
        let (params, args) = pass_on(&sig.inputs);
        let sync_name = sig.ident.clone();
        let async_name = prefixed(&sig.ident);
        Ok(Method {
            attrs,
            native,
            body: default,
            receiver,
            receiver_lifetime,
            params,
            args,
            sync_name,
            async_name,
            deprecations,
            dispatchable: dispatchable(&sig, receiver),
            sig,
            original,
        })
    }

    /// The name of the side the implementor writes.
    pub(crate) fn native_name(&self) -> &Ident {
        match self.native {
            Native::Async => &self.async_name,
            Native::Blocking | Native::Nonblocking => &self.sync_name,
        }
    }
}

/// How a signature takes `self` (`Other` when it has no receiver: it is never called on one).
pub(crate) fn receiver_kind(sig: &Signature) -> ReceiverKind {
    let Some(receiver) = sig.receiver() else {
        return ReceiverKind::Other;
    };
    match &*receiver.ty {
        Type::Reference(reference) if is_self(&reference.elem) => {
            if reference.mutability.is_some() {
                ReceiverKind::Exclusive
            } else {
                ReceiverKind::Shared
            }
        }
        ty if is_self(ty) => ReceiverKind::Value,
        _ => ReceiverKind::Other,
    }
}

/// Whether a trait object can call a method: it is no `async fn` as written, borrows `self` (`&self` or `&mut self`), has no
/// type or const parameters (nor `impl Trait` arguments), mentions `Self` only as a path prefix
/// (`Self::Item`), returns no `impl Trait` and puts no bound on `Self` but `Send`/`Sync`. Other
/// methods get `where Self: Sized` in a `dyn` trait, as Rust requires.
pub(crate) fn dispatchable(sig: &Signature, receiver: ReceiverKind) -> bool {
    let borrows_self = matches!(receiver, ReceiverKind::Shared | ReceiverKind::Exclusive);
    let generic = sig
        .generics
        .params
        .iter()
        .any(|param| !matches!(param, GenericParam::Lifetime(_)));
    let mut visitor = SelfOrImplTrait {
        impl_trait: true,
        found: false,
    };
    for input in sig.inputs.iter().skip(1) {
        visitor.visit_fn_arg(input);
    }
    visitor.visit_return_type(&sig.output);
    let bounds_self = sig.generics.where_clause.as_ref().is_some_and(|clause| {
        clause.predicates.iter().any(|predicate| match predicate {
            WherePredicate::Type(predicate) if is_self(&predicate.bounded_ty) => {
                predicate.bounds.iter().any(|bound| {
                    !matches!(bound, TypeParamBound::Trait(bound)
                    if bound.path.segments.last().is_some_and(|segment| {
                        segment.ident == "Send" || segment.ident == "Sync"
                    }))
                })
            }
            _ => false,
        })
    });
    sig.asyncness.is_none() && borrows_self && !generic && !visitor.found && !bounds_self
}

/// Whether `Self` appears as a type (not as a path prefix) in the inputs after the receiver or
/// in the output: such a method cannot be forwarded to another type.
pub(crate) fn mentions_self(sig: &Signature) -> bool {
    let mut visitor = SelfOrImplTrait {
        impl_trait: false,
        found: false,
    };
    sig.inputs
        .iter()
        .skip(1)
        .for_each(|input| visitor.visit_fn_arg(input));
    visitor.visit_return_type(&sig.output);
    visitor.found
}

/// Finds `Self` used as a type (not as a path prefix), and `impl Trait` types if asked.
struct SelfOrImplTrait {
    impl_trait: bool,
    found: bool,
}

impl<'ast> Visit<'ast> for SelfOrImplTrait {
    fn visit_type(&mut self, ty: &'ast Type) {
        if is_self(ty) || self.impl_trait && matches!(ty, Type::ImplTrait(_)) {
            self.found = true;
        }
        visit::visit_type(self, ty);
    }
}

/// `am` for `m`; raw when that is a keyword (`sync` gives `r#async`, `wait` gives `r#await`).
pub(crate) fn prefixed(ident: &Ident) -> Ident {
    let name = format!("a{}", ident.unraw());
    if syn::parse_str::<Ident>(&name).is_ok() {
        Ident::new(&name, ident.span())
    } else {
        Ident::new_raw(&name, ident.span())
    }
}

pub(crate) fn is_self(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.is_ident("Self"))
}

/// Gives every argument a plain name so a twin can pass it on: `x` and `mut x` keep their
/// name, any other pattern becomes `__argN`. The receiver keeps its type but loses `mut`.
pub(crate) fn pass_on(
    inputs: &Punctuated<FnArg, Token![,]>,
) -> (Punctuated<FnArg, Token![,]>, Vec<Ident>) {
    let mut args = Vec::new();
    let params = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| match input {
            FnArg::Receiver(receiver) => {
                let mut receiver = receiver.clone();
                if receiver.reference.is_none() {
                    receiver.mutability = None; // `mut self`, not `&mut self`
                }
                FnArg::Receiver(receiver)
            }
            FnArg::Typed(typed) => {
                let ident = match &*typed.pat {
                    Pat::Ident(PatIdent {
                        by_ref: None,
                        subpat: None,
                        ident,
                        ..
                    }) if ident != "self" => ident.clone(),
                    _ => Ident::new(&format!("__arg{index}"), Span::call_site()),
                };
                let mut typed = typed.clone();
                typed.pat = Box::new(Pat::Ident(PatIdent {
                    attrs: Vec::new(),
                    by_ref: None,
                    mutability: None,
                    ident: ident.clone(),
                    subpat: None,
                }));
                args.push(ident);
                FnArg::Typed(typed)
            }
        })
        .collect();
    (params, args)
}
