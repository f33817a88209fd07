//! Validation of the memoized function: what `#[cached]` supports, and the form it takes.
//!
//! Every unsupported shape is reported with the user's own tokens as the span; the caller then
//! emits the function as written.

use proc_macro2::Span;
use syn::visit::Visit;
use syn::{Expr, FnArg, GenericParam, Ident, ItemFn, Lit, Pat, Path, ReturnType, Type};

use super::parse::Options;
use crate::parse::Errors;

/// A function `#[cached]` can memoize.
pub(crate) struct Model<'f> {
    pub(crate) krate: Path,
    pub(crate) function: &'f ItemFn,
    pub(crate) cache: Expr,
    /// `ttl`, as written; `None`: the cache's default timeout.
    pub(crate) ttl: Option<Ttl>,
    pub(crate) key: Option<Expr>,
    /// The arguments' names, in order: the key is made from them.
    pub(crate) arguments: Vec<&'f Ident>,
    /// The value cached: the return type, or its `Ok` type for a `Result`.
    pub(crate) output: &'f Type,
    /// The function returns a `Result`: its `Err` is returned, never stored.
    pub(crate) fallible: bool,
}

/// How the `ttl` option was written.
pub(crate) enum Ttl {
    /// An integer literal: seconds.
    Seconds(Expr),
    /// Anything else: converted with `Timeout::from`.
    Expr(Expr),
}

impl<'f> Model<'f> {
    /// Checks the function and the options; `None` (with the reasons in `errors`) when the
    /// function cannot be memoized as written.
    pub(crate) fn build(
        options: Options,
        function: &'f ItemFn,
        errors: &mut Errors,
    ) -> Option<Self> {
        let sig = &function.sig;
        let mut failed = false;
        let mut fail = |errors: &mut Errors, error: syn::Error| {
            errors.push(error);
            failed = true;
        };
        if let Some(constness) = &sig.constness {
            fail(
                errors,
                syn::Error::new_spanned(
                    constness,
                    "a `const fn` cannot read a cache: remove `#[cached]` or `const`",
                ),
            );
        }
        if let Some(abi) = &sig.abi {
            fail(
                errors,
                syn::Error::new_spanned(
                    abi,
                    "`#[cached]` memoizes Rust functions: remove the `extern` ABI",
                ),
            );
        }
        if let Some(variadic) = &sig.variadic {
            fail(
                errors,
                syn::Error::new_spanned(variadic, "`#[cached]` cannot memoize a variadic function"),
            );
        }
        for param in &sig.generics.params {
            match param {
                GenericParam::Lifetime(_) => {}
                GenericParam::Type(param) => fail(
                    errors,
                    syn::Error::new_spanned(
                        param,
                        "`#[cached]` cannot memoize a generic function: its instances would share \
                     one key; write a function per type, each calling the generic one",
                    ),
                ),
                GenericParam::Const(param) => fail(
                    errors,
                    syn::Error::new_spanned(
                        param,
                        "`#[cached]` cannot memoize a function with a const parameter: its instances \
                     would share one key",
                    ),
                ),
            }
        }
        let mut arguments = Vec::new();
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(receiver) => fail(
                    errors,
                    syn::Error::new_spanned(
                        receiver,
                        "`#[cached]` cannot memoize a method: `self` is not part of the key; write a \
                     free function taking what the result depends on, and call it from the method",
                    ),
                ),
                FnArg::Typed(typed) => {
                    let mut impl_trait = ImplTrait(None);
                    impl_trait.visit_type(&typed.ty);
                    if let Some(span) = impl_trait.0 {
                        fail(
                            errors,
                            syn::Error::new(
                                span,
                                "`#[cached]` cannot memoize a function taking `impl Trait`: it is a \
                             generic function; take a concrete type",
                            ),
                        );
                    }
                    match &*typed.pat {
                        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                            arguments.push(&pat.ident);
                        }
                        other => fail(
                            errors,
                            syn::Error::new_spanned(
                                other,
                                "`#[cached]` needs a name for each argument (the key is made from \
                             them): write `name: Type` and destructure in the body",
                            ),
                        ),
                    }
                }
            }
        }
        let output = match &sig.output {
            ReturnType::Type(_, ty) if !is_unit(ty) => Some(match result_ok_type(ty) {
                Some(ok) => (ok, true),
                None => (&**ty, false),
            }),
            _ => {
                fail(
                    errors,
                    syn::Error::new_spanned(
                        &sig.ident,
                        "`#[cached]` stores what the function returns: this one returns nothing",
                    ),
                );
                None
            }
        };
        if options.cache.is_none() {
            fail(
                errors,
                syn::Error::new(
                    options.span,
                    "`#[cached]` needs its cache: `#[cached(cache = CACHE)]`, with `CACHE` a \
                 `static` `LazyLock<Cache>`, a `Cache`, or a call returning `&Cache`",
                ),
            );
        }
        let ttl = options.ttl.map(|ttl| match &ttl {
            Expr::Lit(lit) if matches!(lit.lit, Lit::Int(_)) => Ttl::Seconds(ttl),
            _ => Ttl::Expr(ttl),
        });
        let (Some((output, fallible)), Some(cache), false) = (output, options.cache, failed) else {
            return None;
        };
        Some(Model {
            krate: options.krate.unwrap_or_else(|| syn::parse_quote!(::cachex)),
            function,
            cache,
            ttl,
            key: options.key,
            arguments,
            output,
            fallible,
        })
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

/// The `Ok` type of a return type whose last path segment is `Result`: `Result<T, E>` and
/// aliases such as `io::Result<T>` alike.
fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(ok) => Some(ok),
        _ => None,
    }
}

/// Finds an `impl Trait` anywhere in an argument's type.
struct ImplTrait(Option<Span>);

impl Visit<'_> for ImplTrait {
    fn visit_type_impl_trait(&mut self, node: &syn::TypeImplTrait) {
        self.0.get_or_insert(node.impl_token.span);
    }
}
