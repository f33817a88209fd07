//! The options of `#[cached(...)]`, each read on its own: a bad one is reported and left out,
//! so that one expansion reports every misuse.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{Expr, Path};

use crate::parse::{Errors, split_options};

/// `#[cached(cache = EXPR, ttl = EXPR, key = EXPR, crate = path)]`.
pub(crate) struct Options {
    /// Path of the `cachex` crate in generated code (`::cachex` unless `crate = path`).
    pub(crate) krate: Option<Path>,
    /// `cache = expr`: the cache, anything that `&expr` coerces to `&Cache`.
    pub(crate) cache: Option<Expr>,
    /// `ttl = expr`: how long a result is kept; an integer literal is seconds.
    pub(crate) ttl: Option<Expr>,
    /// `key = expr`: the key of a call, in place of the arguments.
    pub(crate) key: Option<Expr>,
    /// The attribute's tokens, to point at when `cache` is missing.
    pub(crate) span: proc_macro2::Span,
}

const EXPECTED: &str =
    "expected `cache = <expr>`, `ttl = <expr>`, `key = <expr>` or `crate = <path>`";

impl Options {
    /// Parses the attribute's arguments; a bad option is reported in `errors` and left out.
    pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> Self {
        let span = args
            .clone()
            .into_iter()
            .next()
            .map_or_else(proc_macro2::Span::call_site, |token| token.span());
        let mut options = Options {
            krate: None,
            cache: None,
            ttl: None,
            key: None,
            span,
        };
        for option in split_options(args) {
            let parser = syn::meta::parser(|meta| {
                if meta.path.is_ident("cache") {
                    expression(&meta, &mut options.cache)
                } else if meta.path.is_ident("ttl") {
                    expression(&meta, &mut options.ttl)
                } else if meta.path.is_ident("key") {
                    expression(&meta, &mut options.key)
                } else if meta.path.is_ident("crate") {
                    if options.krate.is_some() {
                        return Err(meta.error("this option is given twice"));
                    }
                    options.krate = Some(meta.value()?.call(Path::parse_mod_style)?);
                    Ok(())
                } else if meta.path.is_ident("timeout") || meta.path.is_ident("time") {
                    Err(meta.error("unknown option; the time a result is kept is `ttl = <expr>`"))
                } else {
                    Err(meta.error(format!("unknown option; {EXPECTED}")))
                }
            });
            if let Err(err) = syn::parse::Parser::parse2(parser, option) {
                errors.push(err);
            }
        }
        options
    }
}

fn expression(meta: &ParseNestedMeta<'_>, slot: &mut Option<Expr>) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error("this option is given twice"));
    }
    *slot = Some(meta.value()?.parse()?);
    Ok(())
}
