//! The validated model of an annotated trait: which side of each method is native, what the
//! twins are called, how arguments are passed on. Every misuse is reported here, with the
//! user's own tokens as spans, so that expansion never has to fail.

use proc_macro2::Span;
use quote::{ToTokens, format_ident};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Block, FnArg, Ident, ItemTrait, Lifetime, Pat, PatIdent, Signature, Token,
    TraitItem, Type,
};

use crate::parse::{Deprecations, Errors, MethodOptions, TraitOptions};

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
}

/// One item of the trait, in its original order.
pub(crate) enum Entry {
    /// A method that gets twins.
    Method(Method),
    /// Anything emitted as written: associated types and consts, skipped methods, macros.
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
    /// `self`, `self: Box<Self>`, ...: only as `m`/`am`.
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
}

impl Model {
    /// Validates the trait against the macro's rules; every misuse found is reported at once.
    pub(crate) fn build(options: TraitOptions, mut item: ItemTrait) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let mut entries = Vec::with_capacity(item.items.len());
        for trait_item in std::mem::take(&mut item.items) {
            match trait_item {
                TraitItem::Fn(mut method) => match MethodOptions::take(&mut method.attrs) {
                    Err(err) => errors.push(err),
                    Ok(method_options) if method_options.skip.is_some() => {
                        if let Some(nonblocking) = &method_options.nonblocking {
                            errors.push(syn::Error::new_spanned(
                                nonblocking,
                                "`nonblocking` has no effect on a skipped method",
                            ));
                        }
                        entries.push(Entry::Verbatim(TraitItem::Fn(method)));
                    }
                    Ok(method_options) => {
                        let deprecations = method_options.deprecations.or(&options.deprecations);
                        match Method::build(method, method_options, deprecations) {
                            Ok(method) => entries.push(Entry::Method(method)),
                            Err(err) => errors.push(err),
                        }
                    }
                },
                other => entries.push(Entry::Verbatim(other)),
            }
        }
        let model = Model {
            view: format_ident!("{}Async", item.ident.unraw()),
            handles: format_ident!("{}Handles", item.ident.unraw()),
            handle: format_ident!("{}Handle", item.ident.unraw()),
            options,
            item,
            entries,
        };
        if let Err(err) = model.check_names() {
            errors.push(err);
        }
        errors.finish()?;
        Ok(model)
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

    /// Generated names must not collide with anything declared in the trait, with each other,
    /// nor with the names the expansion reserves. Two items under different `cfg`s may share
    /// a name: they are alternatives, never compiled together.
    fn check_names(&self) -> syn::Result<()> {
        let declared: Vec<(String, &Ident, Vec<String>)> = self
            .entries
            .iter()
            .filter_map(|entry| {
                let (ident, attrs) = match entry {
                    Entry::Method(method) => (&method.sig.ident, &method.attrs),
                    Entry::Verbatim(TraitItem::Fn(method)) => (&method.sig.ident, &method.attrs),
                    Entry::Verbatim(TraitItem::Const(constant)) => {
                        (&constant.ident, &constant.attrs)
                    }
                    Entry::Verbatim(_) => return None,
                };
                Some((ident.unraw().to_string(), ident, cfgs(attrs)))
            })
            .collect();
        let mut reserved = vec![("a", "the async view")];
        if self.has_exclusive_methods() {
            reserved.push(("a_mut", "the async view of `&mut self` methods"));
        }
        if self
            .methods()
            .any(|method| method.receiver == ReceiverKind::Shared)
        {
            reserved.push(("__target", "a field of the method handles"));
        }
        let mut errors = Errors::default();
        for (name, ident, _) in &declared {
            if let Some((_, what)) = reserved.iter().find(|(reserved, _)| reserved == name) {
                errors.push(syn::Error::new_spanned(
                    ident,
                    format!("`{name}` is the name of {what} that `#[auto_async]` generates; rename this method"),
                ));
            }
        }
        let methods: Vec<&Method> = self.methods().collect();
        for (index, method) in methods.iter().enumerate() {
            let twin = method.async_name.unraw().to_string();
            let own = cfgs(&method.attrs);
            let name = method.sig.ident.unraw();
            let clash = if let Some((_, what)) = reserved.iter().find(|(r, _)| *r == twin) {
                Some(format!("{what} that `#[auto_async]` generates"))
            } else if let Some((_, other, _)) = declared
                .iter()
                .find(|(other, _, cfgs)| *other == twin && !exclusive(&own, cfgs))
            {
                Some(format!("a method this trait already declares (`{other}`)"))
            } else {
                methods[..index]
                    .iter()
                    .find(|other| {
                        other.async_name.unraw() == twin && !exclusive(&own, &cfgs(&other.attrs))
                    })
                    .map(|other| format!("the async twin of `{}`", other.sig.ident.unraw()))
            };
            if let Some(clash) = clash {
                errors.push(syn::Error::new_spanned(
                    &method.sig.ident,
                    format!(
                        "the async twin of `{name}` is named `{twin}`, which is also {clash}; \
                         rename one of them"
                    ),
                ));
            }
        }
        errors.finish()
    }
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
    fn build(
        method: syn::TraitItemFn,
        options: MethodOptions,
        deprecations: Deprecations,
    ) -> syn::Result<Self> {
        let syn::TraitItemFn {
            attrs,
            mut sig,
            default,
            ..
        } = method;
        let native = match (sig.asyncness.take(), options.nonblocking) {
            (Some(_), Some(nonblocking)) => {
                return Err(syn::Error::new_spanned(
                    nonblocking,
                    "`nonblocking` is for blocking methods: an `async fn` is already native \
                     async, and its blocking twin is bridged",
                ));
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
        let (receiver_kind, receiver_lifetime) = match &*receiver.ty {
            Type::Reference(reference) if is_self(&reference.elem) => (
                if reference.mutability.is_some() {
                    ReceiverKind::Exclusive
                } else {
                    ReceiverKind::Shared
                },
                reference.lifetime.clone(),
            ),
            _ => (ReceiverKind::Other, None),
        };
        let (params, args) = pass_on(&sig.inputs);
        let sync_name = sig.ident.clone();
        let async_name = prefixed(&sig.ident);
        Ok(Method {
            attrs,
            native,
            body: default,
            receiver: receiver_kind,
            receiver_lifetime,
            params,
            args,
            sync_name,
            async_name,
            deprecations,
            sig,
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

/// `am` for `m`; raw when that is a keyword (`sync` gives `r#async`, `wait` gives `r#await`).
fn prefixed(ident: &Ident) -> Ident {
    let name = format!("a{}", ident.unraw());
    if syn::parse_str::<Ident>(&name).is_ok() {
        Ident::new(&name, ident.span())
    } else {
        Ident::new_raw(&name, ident.span())
    }
}

fn is_self(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.is_ident("Self"))
}

/// Gives every argument a plain name so a twin can pass it on: `x` and `mut x` keep their
/// name, any other pattern becomes `__argN`. The receiver keeps its type but loses `mut`.
fn pass_on(inputs: &Punctuated<FnArg, Token![,]>) -> (Punctuated<FnArg, Token![,]>, Vec<Ident>) {
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
