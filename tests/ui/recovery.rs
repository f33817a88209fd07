// Trait options and method options are all checked in one pass, each misuse reported once;
// a bad option is left out, and the impl below, written against the rest, gets no error.
#[cachex::auto_async(locl, deprecated_sync = "use async")]
pub trait Store: Send + Sync {
    #[auto_async(nonblockng)]
    fn len(&self) -> usize;
    async fn get(&self) -> u8;
}

struct S;

impl Store for S {
    fn len(&self) -> usize {
        0
    }
    async fn aget(&self) -> u8 {
        1
    }
}

#[allow(deprecated)]
fn main() {
    let _ = S.alen();
    let _ = S.get();
}
