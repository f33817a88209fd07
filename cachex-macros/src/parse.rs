//! Parsing of the attribute's options, on the trait, on its methods and on impl blocks.
//!
//! Nothing here looks at method signatures; that is the model's job. This module only reads
//! `#[auto_async(...)]` option lists and strips the helper attributes from items. Every option is
//! read on its own: a bad one is reported and left out, and the others still apply, so that one
//! expansion reports every misuse and the rest of the trait expands as intended.

use proc_macro2::{TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitStr, Path, Token, Type, parse_quote};

/// Options written on the trait: `#[auto_async(local, crate = path, ...)]`.
pub(crate) struct TraitOptions {
    /// Path of the `cachex` crate in generated code (`::cachex` unless `crate = path`).
    pub(crate) krate: Path,
    /// `local`: async twins return futures without a `Send` bound.
    pub(crate) local: bool,
    /// `dyn`: the trait can be a trait object; the token is kept for error spans.
    pub(crate) dyn_: Option<Ident>,
    /// `forward(Type, ..)`: types that implement the trait by forwarding to their handles.
    pub(crate) forward: Vec<Type>,
    /// Deprecations applied to every method that has none of its own.
    pub(crate) deprecations: Deprecations,
}

/// Options written on a method: `#[auto_async(nonblocking)]`, `#[auto_async(skip)]`, ...
#[derive(Default)]
pub(crate) struct MethodOptions {
    /// `skip`: the method is left alone; the token is kept for error spans.
    pub(crate) skip: Option<Ident>,
    /// `nonblocking`: the async twin calls the blocking method inline.
    pub(crate) nonblocking: Option<Ident>,
    pub(crate) deprecations: Deprecations,
}

/// `deprecated_sync = "note"` / `deprecated_async = "note"`: marks one spelling `#[deprecated]`.
#[derive(Default, Clone)]
pub(crate) struct Deprecations {
    pub(crate) sync: Option<LitStr>,
    pub(crate) async_: Option<LitStr>,
}

impl Deprecations {
    /// Reads `deprecated_sync`/`deprecated_async`; returns `false` for any other option.
    fn try_parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
        let slot = if meta.path.is_ident("deprecated_sync") {
            &mut self.sync
        } else if meta.path.is_ident("deprecated_async") {
            &mut self.async_
        } else {
            return Ok(false);
        };
        if slot.is_some() {
            return Err(meta.error("this option is given twice"));
        }
        *slot = Some(meta.value()?.parse()?);
        Ok(true)
    }

    /// The method's own deprecations, falling back to the trait's, side by side.
    pub(crate) fn or(&self, fallback: &Deprecations) -> Deprecations {
        Deprecations {
            sync: self.sync.clone().or_else(|| fallback.sync.clone()),
            async_: self.async_.clone().or_else(|| fallback.async_.clone()),
        }
    }
}

const NOT_SEND: &str = "unknown option; for futures that are not `Send`, write `local`";

impl TraitOptions {
    /// Parses the attribute's own arguments (the tokens inside `#[auto_async(...)]` on the
    /// trait); a bad option is reported in `errors` and left out.
    pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> Self {
        let mut options = TraitOptions {
            krate: parse_quote!(::cachex),
            local: false,
            dyn_: None,
            forward: Vec::new(),
            deprecations: Deprecations::default(),
        };
        let mut krate_seen = false;
        for option in split_options(args) {
            if let Some(TokenTree::Punct(question)) = option.clone().into_iter().next() {
                if question.as_char() == '?' {
                    errors.push(syn::Error::new(question.span(), NOT_SEND));
                    continue;
                }
            }
            let parser = syn::meta::parser(|meta| {
                if options.deprecations.try_parse(&meta)? {
                    Ok(())
                } else if meta.path.is_ident("local") {
                    flag(&meta, &mut options.local)
                } else if meta.path.is_ident("dyn") {
                    keyword(&meta, &mut options.dyn_)
                } else if meta.path.is_ident("crate") {
                    if std::mem::replace(&mut krate_seen, true) {
                        return Err(meta.error("this option is given twice"));
                    }
                    options.krate = meta.value()?.call(Path::parse_mod_style)?;
                    Ok(())
                } else if meta.path.is_ident("forward") {
                    let types;
                    syn::parenthesized!(types in meta.input);
                    let types = Punctuated::<Type, Token![,]>::parse_terminated(&types)?;
                    options.forward.extend(types);
                    Ok(())
                } else if meta.path.is_ident("Send") {
                    Err(meta.error(NOT_SEND))
                } else {
                    Err(meta.error(
                        "unknown option; on a trait, expected `local`, `dyn`, `crate = path`, \
                         `forward(Type, ..)`, `deprecated_sync = \"..\"` or \
                         `deprecated_async = \"..\"`",
                    ))
                }
            });
            if let Err(err) = syn::parse::Parser::parse2(parser, option) {
                errors.push(err);
            }
        }
        options
    }
}

impl MethodOptions {
    /// Reads and removes every `#[auto_async(...)]` among a method's attributes; a bad option is
    /// reported in `errors` and left out.
    pub(crate) fn take(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> Self {
        let mut options = MethodOptions::default();
        for attr in attrs.iter().filter(|attr| is_helper(attr)) {
            for option in helper_options(attr, METHOD_OPTIONS, errors) {
                let parser = syn::meta::parser(|meta| {
                    if options.deprecations.try_parse(&meta)? {
                        Ok(())
                    } else if meta.path.is_ident("skip") {
                        keyword(&meta, &mut options.skip)
                    } else if meta.path.is_ident("nonblocking") {
                        keyword(&meta, &mut options.nonblocking)
                    } else {
                        Err(meta.error(format!("unknown option; {METHOD_OPTIONS}")))
                    }
                });
                if let Err(err) = syn::parse::Parser::parse2(parser, option) {
                    errors.push(err);
                }
            }
        }
        attrs.retain(|attr| !is_helper(attr));
        options
    }

    /// Reads and removes the helper attributes of a method in an annotated impl block, where
    /// only `skip` applies; returns whether the method is skipped.
    pub(crate) fn take_in_impl(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> bool {
        let mut skip = None;
        for attr in attrs.iter().filter(|attr| is_helper(attr)) {
            for option in helper_options(attr, IMPL_METHOD_OPTIONS, errors) {
                let parser = syn::meta::parser(|meta| {
                    if meta.path.is_ident("skip") {
                        keyword(&meta, &mut skip)
                    } else {
                        Err(meta.error(format!("unknown option; {IMPL_METHOD_OPTIONS}")))
                    }
                });
                if let Err(err) = syn::parse::Parser::parse2(parser, option) {
                    errors.push(err);
                }
            }
        }
        attrs.retain(|attr| !is_helper(attr));
        skip.is_some()
    }
}

const METHOD_OPTIONS: &str = "on a method, expected `skip`, `nonblocking`, \
                              `deprecated_sync = \"..\"` or `deprecated_async = \"..\"`";

const IMPL_METHOD_OPTIONS: &str = "in an impl block, a method takes only `#[auto_async(skip)]` \
                                   (kept as written, not renamed)";

/// The options of one helper attribute, one token stream each; an attribute without a list is
/// reported and yields none.
fn helper_options(attr: &Attribute, expected: &str, errors: &mut Errors) -> Vec<TokenStream> {
    match attr.meta.require_list() {
        Ok(list) => split_options(list.tokens.clone()),
        Err(err) => {
            errors.push(syn::Error::new_spanned(attr, format!("{err}: {expected}")));
            Vec::new()
        }
    }
}

/// Splits an option list at its top-level commas, so that each option is parsed on its own.
pub(crate) fn split_options(tokens: TokenStream) -> Vec<TokenStream> {
    let mut options = Vec::new();
    let mut option = TokenStream::new();
    for token in tokens {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => {
                options.push(std::mem::take(&mut option));
            }
            _ => option.extend([token]),
        }
    }
    options.push(option);
    options.retain(|option| !option.is_empty());
    options
}

fn flag(meta: &ParseNestedMeta<'_>, slot: &mut bool) -> syn::Result<()> {
    if std::mem::replace(slot, true) {
        return Err(meta.error("this option is given twice"));
    }
    Ok(())
}

fn keyword(meta: &ParseNestedMeta<'_>, slot: &mut Option<Ident>) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error("this option is given twice"));
    }
    *slot = meta
        .path
        .segments
        .first()
        .map(|segment| segment.ident.clone());
    Ok(())
}

/// Whether an attribute is one of ours (`#[auto_async(..)]` or `#[path::auto_async(..)]`).
pub(crate) fn is_helper(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "auto_async")
}

/// Collects several errors so that one expansion reports all of them.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    pub(crate) fn extend(&mut self, other: Errors) {
        if let Some(err) = other.0 {
            self.push(err);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The errors as `compile_error!` invocations (nothing when there are none).
    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.0.map(|err| err.to_compile_error()).unwrap_or_default()
    }
}
