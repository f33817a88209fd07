// A method without a receiver has no twins: the error points at it, and the trait is still
// emitted (the impl below compiles against it, so no other error appears).
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
    async fn get(&self) -> u8 {
        1
    }
}

fn main() {}
