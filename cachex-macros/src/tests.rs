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
