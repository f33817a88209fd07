//! Expansion snapshots: every change to generated code shows up in review as a snapshot diff.

use proc_macro2::TokenStream;
use quote::quote;

/// Expands `#[auto_async(attr)] item` and pretty-prints the result.
fn expand(attr: TokenStream, item: TokenStream) -> String {
    let tokens = crate::auto_async_impl(attr, item);
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(err) => panic!("the expansion does not parse ({err}):\n{tokens}"),
    }
}

#[test]
fn store() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            pub trait Store: Send + Sync {
                /// Native async.
                async fn get(&self, key: &str) -> Option<String>;
                /// Native blocking.
                fn size(&self) -> usize;
                #[auto_async(nonblocking)]
                fn len(&self) -> usize;
                #[auto_async(skip)]
                fn name(&self) -> &str;
            }
        }
    ));
}

#[test]
fn generics_lifetimes_and_receivers() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            pub(crate) trait Table<'s, K: Hash = String, const N: usize>: Named
            where
                Self: Sized,
            {
                type Item;
                const LIMIT: usize;
                async fn find<'k, V: Default>(&'s self, key: &'k K) -> Option<&'s V>
                where
                    V: Send;
                fn first(&self, (a, b): (u8, u8), _: impl Display) -> &str {
                    self.name()
                }
                async fn fill(&mut self, mut items: Vec<Self::Item>) -> usize {
                    items.len()
                }
                fn into_items(self) -> Vec<Self::Item>;
            }
        }
    ));
}

#[test]
fn local_renamed_crate_deprecations_and_keywords() {
    insta::assert_snapshot!(expand(
        quote!(local, crate = my::cachex, deprecated_sync = "use async"),
        quote! {
            trait Legacy {
                #[auto_async(deprecated_async = "cheap: call `sync`")]
                #[cfg(feature = "x")]
                fn sync(&self) -> u8;
                async fn r#type(&self);
            }
        }
    ));
}

#[test]
fn misuse_keeps_the_trait_and_reports_every_error() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            pub trait Broken {
                fn new() -> Self;
                #[auto_async(nonblocking)]
                async fn get(&self) -> u8;
                #[auto_async(skip)]
                fn aget(&self);
            }
        }
    ));
}
