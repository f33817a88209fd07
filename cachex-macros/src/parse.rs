//! Parsing of the attribute's options, on the trait and on its methods.
//!
//! Nothing here looks at method signatures; that is the model's job. This module only reads
//! `#[auto_async(...)]` option lists and strips the helper attributes from items.

use syn::meta::ParseNestedMeta;
use syn::{Attribute, Ident, ItemTrait, LitStr, Path, TraitItem, parse_quote};

/// Options written on the trait: `#[auto_async(local, crate = path, ...)]`.
pub(crate) struct TraitOptions {
    /// Path of the `cachex` crate in generated code (`::cachex` unless `crate = path`).
    pub(crate) krate: Path,
    /// `local`: async twins return futures without a `Send` bound.
    pub(crate) local: bool,
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

impl TraitOptions {
    /// Parses the attribute's own arguments (the tokens inside `#[auto_async(...)]` on the trait).
    pub(crate) fn parse(args: proc_macro2::TokenStream) -> syn::Result<Self> {
        let mut options = TraitOptions {
            krate: parse_quote!(::cachex),
            local: false,
            deprecations: Deprecations::default(),
        };
        if let Some(proc_macro2::TokenTree::Punct(question)) = args.clone().into_iter().next() {
            if question.as_char() == '?' {
                return Err(syn::Error::new(
                    question.span(),
                    "unknown option; for futures that are not `Send`, write `local`",
                ));
            }
        }
        let mut krate_seen = false;
        let parser = syn::meta::parser(|meta| {
            if options.deprecations.try_parse(&meta)? {
                Ok(())
            } else if meta.path.is_ident("local") {
                flag(&meta, &mut options.local)
            } else if meta.path.is_ident("crate") {
                if std::mem::replace(&mut krate_seen, true) {
                    return Err(meta.error("this option is given twice"));
                }
                options.krate = meta.value()?.call(Path::parse_mod_style)?;
                Ok(())
            } else if meta.path.is_ident("Send") {
                Err(meta.error("unknown option; for futures that are not `Send`, write `local`"))
            } else {
                Err(meta.error(
                    "unknown option; on a trait, expected `local`, `crate = path`, \
                     `deprecated_sync = \"..\"` or `deprecated_async = \"..\"`",
                ))
            }
        });
        syn::parse::Parser::parse2(parser, args)?;
        Ok(options)
    }
}

impl MethodOptions {
    /// Reads and removes every `#[auto_async(...)]` among a method's attributes.
    pub(crate) fn take(attrs: &mut Vec<Attribute>) -> syn::Result<Self> {
        let mut options = MethodOptions::default();
        let mut errors = Errors::default();
        for attr in attrs.iter().filter(|attr| is_helper(attr)) {
            if let Err(err) = attr.meta.require_list() {
                errors.push(syn::Error::new_spanned(
                    attr,
                    format!(
                        "{err}: on a method, write `#[auto_async(skip)]`, \
                         `#[auto_async(nonblocking)]` or a deprecation option"
                    ),
                ));
                continue;
            }
            let result = attr.parse_nested_meta(|meta| {
                if options.deprecations.try_parse(&meta)? {
                    Ok(())
                } else if meta.path.is_ident("skip") {
                    keyword(&meta, &mut options.skip)
                } else if meta.path.is_ident("nonblocking") {
                    keyword(&meta, &mut options.nonblocking)
                } else {
                    Err(meta.error(
                        "unknown option; on a method, expected `skip`, `nonblocking`, \
                         `deprecated_sync = \"..\"` or `deprecated_async = \"..\"`",
                    ))
                }
            });
            if let Err(err) = result {
                errors.push(err);
            }
        }
        attrs.retain(|attr| !is_helper(attr));
        errors.finish()?;
        Ok(options)
    }
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
    *slot = meta.path.get_ident().cloned();
    Ok(())
}

/// Whether an attribute is one of ours (`#[auto_async(..)]` or `#[path::auto_async(..)]`).
fn is_helper(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "auto_async")
}

/// Removes the helper attributes from every method, so that the trait can be emitted as written
/// (used when the attribute reports an error: the trait still exists for IDEs and later code).
pub(crate) fn strip_helper_attrs(mut item: ItemTrait) -> ItemTrait {
    for entry in &mut item.items {
        if let TraitItem::Fn(method) = entry {
            method.attrs.retain(|attr| !is_helper(attr));
        }
    }
    item
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

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}
