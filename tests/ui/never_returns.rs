#[cachex::auto_async]
pub trait Server {
    fn serve(&self) -> !;
}

fn main() {}
