#[cachex::auto_async]
pub trait Store {
    #[auto_async(nonblocking)]
    async fn get(&self) -> u8;
}

fn main() {}
