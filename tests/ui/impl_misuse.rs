// On impl blocks: options are refused, an inherent impl is refused, a method takes only
// `skip`; each once, and the impl is kept (renamed) as the attribute would have it.
#[cachex::auto_async]
pub trait Store: Send + Sync {
    async fn get(&self) -> u8;
}

struct S;

#[cachex::auto_async(local)]
impl Store for S {
    #[auto_async(nonblocking)]
    async fn get(&self) -> u8 {
        1
    }
}

#[cachex::auto_async]
impl S {
    async fn fetch(&self) -> u8 {
        2
    }
}

fn main() {
    let _ = S.get();
    let _ = S.fetch();
}
