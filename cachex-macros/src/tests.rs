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

#[test]
fn shapes_needing_bounds_coercions_and_lints() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            pub trait Shapes {
                async fn boxed(&self, early: bool) -> Box<dyn Display + Send> {
                    if early {
                        return Box::new("early");
                    }
                    Box::new(1)
                }
                async fn name(&self) -> Result<impl AsRef<str> + Send, Error>;
                async fn finish(mut self, mut extra: Vec<u8>) -> Vec<u8> {
                    extra.push(0);
                    extra
                }
                fn run(self) -> u32;
                #[allow(non_snake_case)]
                #[expect(clippy::too_many_arguments)]
                fn Get(&self, a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8) -> u8;
            }
        }
    ));
}

#[test]
fn trait_objects() {
    insta::assert_snapshot!(expand(
        quote!(dyn),
        quote! {
            pub trait Store: Send + Sync {
                async fn get(&self, key: &str) -> Option<&str>;
                fn put(&self, key: &str, value: &str);
                async fn add(&mut self, n: u32) -> u32 {
                    n
                }
                fn parse<T: FromStr>(&self, key: &str) -> Option<T> {
                    None
                }
            }
        }
    ));
}

#[test]
fn forwarding() {
    insta::assert_snapshot!(expand(
        quote!(forward(App)),
        quote! {
            pub trait Store: Send + Sync {
                type Value;
                async fn get<V: From<Self::Value>>(&self, key: &str) -> Option<V>;
                fn put(&self, key: &str, value: Self::Value);
                #[auto_async(skip)]
                fn name(&self) -> &str;
                fn reset(&mut self) {}
            }
        }
    ));
}

#[test]
fn impl_side() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            impl Store for Mem {
                async fn get(&self, key: &str) -> Option<String> {
                    None
                }
                fn set(&self, key: &str, value: &str) {}
                async fn set(&self, key: &str, value: &str) {}
                #[auto_async(skip)]
                async fn flush(&self) {}
            }
        }
    ));
}

/// Expands `#[cached(attr)] item` and pretty-prints the result.
fn expand_cached(attr: TokenStream, item: TokenStream) -> String {
    let tokens = crate::cached::cached_impl(attr, item);
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(err) => panic!("the expansion does not parse ({err}):\n{tokens}"),
    }
}

#[test]
fn cached_blocking_and_async() {
    insta::assert_snapshot!(
        expand_cached(
            quote!(cache = CACHE, ttl = 60),
            quote! {
                /// Documented.
                pub fn square(n: u64, mut label: String) -> u64 {
                    label.push('!');
                    n * n
                }
            }
        ) + &expand_cached(
            quote!(
                cache = cache(),
                ttl = Duration::from_secs(5),
                key = format!("user:{id}")
            ),
            quote! {
                pub(crate) async fn user<'a>(id: u32, db: &'a Db) -> Result<User, DbError> {
                    let user = db.find(id).await?;
                    Ok(user)
                }
            }
        ) + &expand_cached(
            quote!(cache = CACHE, crate = my_cachex),
            quote! {
                async fn config() -> io::Result<Config> {
                    read_config().await
                }
            }
        )
    );
}

#[test]
fn cached_misuse_keeps_the_function_and_reports_every_error() {
    insta::assert_snapshot!(
        expand_cached(
            quote!(ttl = 1, ttl = 2, size = 10),
            quote! {
                fn broken<T>(&self, (a, b): (u8, u8), c: impl Display) {}
            }
        ) + &expand_cached(
            quote!(cache = CACHE),
            quote! {
                struct NotAFunction;
            }
        )
    );
}
