// `nonblocking` on an `async fn` is reported and left out: the method stays native async.
#[cachex::auto_async]
pub trait Store {
    #[auto_async(nonblocking)]
    async fn get(&self) -> u8;
}

struct S;

impl Store for S {
    async fn aget(&self) -> u8 {
        1
    }
}

fn main() {
    let _ = S.get();
}
