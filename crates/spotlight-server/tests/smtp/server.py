"""A real SMTP server for the mail tests: aiosmtpd on a random loopback port.

Every message it accepts is appended to the JSON-lines file named by the first
argument ({"from", "to", "data"}); recipients at refused.test are refused with
550, as a mail server refuses an unknown mailbox. Prints {"port": N} once
listening; ends with its parent (stdin closed).
"""

import asyncio
import json
import sys

from aiosmtpd.smtp import SMTP


class Keep:
    def __init__(self, path):
        self.path = path

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@refused.test"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(
                json.dumps(
                    {
                        "from": envelope.mail_from,
                        "to": envelope.rcpt_tos,
                        "data": envelope.content.decode("utf-8", "replace"),
                    }
                )
                + "\n"
            )
        return "250 Message accepted for delivery"


async def main(path):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Keep(path), hostname="smtp.test"), "127.0.0.1", 0
    )
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    # The parent holds our stdin: when it goes, so do we.
    await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
