// A method without a receiver has no twins: the error points at it, the method is kept as
// written and every other method expands, so impls written against the expansion (with the
// async name, or with the definition's names on an annotated impl) get no other error.
#[cachex::auto_async]
pub trait Store {
    fn new() -> Self;
    async fn get(&self) -> u8;
}

struct S;

impl Store for S {
    fn new() -> Self {
        S
    }
    async fn aget(&self) -> u8 {
        1
    }
}

struct T;

#[cachex::auto_async]
impl Store for T {
    fn new() -> Self {
        T
    }
    async fn get(&self) -> u8 {
        2
    }
}

fn main() {
    let _ = S::new().get() + T::new().get();
}
