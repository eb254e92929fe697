# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The meshmon schema for the tests' independent Python clients
(tests/utf8_client.py, tests/protocol_client.py): message classes built at run
time from the FileDescriptorSet that protoc-c wrote at build time
(tests/meson.build), with Debian's python3-protobuf, so no generated code is
committed or needed."""
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

FRAME_MAX = 1 << 20  # docs/protocol.md, "Framing"


def load_pool(path):
    """A descriptor pool holding every file of the set at path."""
    fds = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    return pool


def message_class(pool, name):
    """The class of meshmon.v1.<name>."""
    d = pool.FindMessageTypeByName("meshmon.v1." + name)
    if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
        return message_factory.GetMessageClass(d)
    return message_factory.MessageFactory(pool).GetPrototype(d)
