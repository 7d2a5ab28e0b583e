"""jumpgate from Python: a bastion in an existing VPC, one host it builds (app-1) and one that exists
(legacy-1, whose security group it opens to the bastion). Argument names are the schema's in snake_case;
nested arguments are plain dicts with snake_case keys."""

import pulumi
import pulumi_jumpgate as jumpgate

config = pulumi.Config()

edge = jumpgate.Jumpgate(
    "edge",
    allowed_cidrs=config.require_object("allowedCidrs"),
    network={
        "vpc_id": config.require("vpcId"),
        "public_subnet_ids": config.require_object("publicSubnetIds"),
        "private_subnet_ids": config.require_object("privateSubnetIds"),
    },
    os="debian-13",
    hosts=[
        {"name": "app-1", "instance_type": "t4g.micro"},
        {
            "name": "legacy-1",
            "private_ip": config.require("legacyPrivateIp"),
            "security_group_id": config.require("legacySecurityGroupId"),
            "login_user": "admin",
            # Its host key when you know it (ssh-keyscan it from inside the VPC); without, the entry is unpinned.
            "host_public_key": config.get("legacyHostPublicKey"),
        },
    ],
)

pulumi.export("bastionPublicIp", edge.bastion_public_ip)
pulumi.export("sshConfig", edge.ssh_config)
pulumi.export("knownHosts", edge.known_hosts)
