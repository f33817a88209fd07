// Without `local`, the async side must be `Send`: an implementation that holds an `Rc` across
// an await point is refused, at the implementation.
use std::rc::Rc;

#[cachex::auto_async]
pub trait Remote {
    async fn get(&self) -> u8;
}

struct S;

impl Remote for S {
    async fn aget(&self) -> u8 {
        let rc = Rc::new(1);
        std::future::ready(()).await;
        *rc
    }
}

fn main() {}
