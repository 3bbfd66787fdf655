//! gRPC calls to the classic greeter (`helloworld.Greeter` of gRPC's own
//! examples) on `--target`: a unary call and a server-streaming one. The
//! messages are prost types; the host frames, sends and measures the calls
//! (`GRPC /helloworld.Greeter/SayHello`), with their statuses as counters.

#[molotov::scenarios]
mod greeter {
    use molotov::prelude::*;
    use prost::Message;

    #[derive(Clone, PartialEq, Message)]
    pub struct HelloRequest {
        #[prost(string, tag = "1")]
        pub name: String,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct HelloReply {
        #[prost(string, tag = "1")]
        pub message: String,
    }

    fn hello(name: &str) -> Vec<u8> {
        HelloRequest { name: name.into() }.encode_to_vec()
    }

    /// One unary call; the greeting must name the worker.
    #[scenario(weight = 70)]
    async fn say_hello(s: &AsyncSession) -> Result {
        let name = format!("worker {}", molotov::worker_id());
        let answer = s
            .unary("/helloworld.Greeter/SayHello", &hello(&name))
            .await?;
        let reply = HelloReply::decode(answer.as_slice())?;
        ensure!(
            reply.message == format!("Hello, {name}!"),
            "got {:?}",
            reply.message
        );
        Ok(())
    }

    /// A server-streaming call, with metadata and a deadline: every
    /// greeting comes back.
    #[scenario(weight = 30)]
    async fn stream_hellos(s: &AsyncSession) -> Result {
        let call = Grpc::new("/helloworld.Greeter/SayHelloStream")
            .metadata("x-caller", "molotov")
            .timeout_ms(5_000);
        let reply = s.grpc(&call, &[&hello("stream")]).await?.ok()?;
        ensure!(
            reply.messages.len() == 3,
            "{} greetings",
            reply.messages.len()
        );
        for message in &reply.messages {
            let greeting = HelloReply::decode(message.as_slice())?;
            ensure!(
                greeting.message.starts_with("Hello, stream"),
                "got {:?}",
                greeting.message
            );
        }
        Ok(())
    }

    /// A call the server refuses: its status is the run's error.
    #[scenario(weight = 0)]
    async fn refused(s: &AsyncSession) -> Result {
        s.unary("/helloworld.Greeter/Refuse", &hello("no")).await?;
        Ok(())
    }

    /// A call slower than its deadline: DEADLINE_EXCEEDED.
    #[scenario(weight = 0)]
    async fn too_slow(s: &AsyncSession) -> Result {
        let call = Grpc::new("/helloworld.Greeter/Slow").timeout_ms(200);
        let reply = s.grpc(&call, &[&hello("slow")]).await?;
        ensure!(
            reply.status == 4,
            "status {} ({})",
            reply.status,
            reply.message
        );
        Ok(())
    }
}
