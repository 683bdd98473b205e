"""infra/egress.yaml, the optional fixed egress for WeCom's 企业可信IP: private subnets whose only way out is one NAT
gateway with an Elastic IP, and the outputs `make config` turns into the functions' VPC settings.

moto applies the VPC, subnets, gateways, EIP and routes, but neither the subnet/route-table associations nor a security
group's egress rules (infra_stacks.py); those two are checked in the template.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import boto3
import pytest
from infra_stacks import deploy, load_template

from qungui_cli.render_config import stack_name

PRIVATE_SUBNETS = ("PrivateSubnetA", "PrivateSubnetB")


def resources() -> dict[str, Any]:
    return load_template("egress")["Resources"]


def _ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


# --- the template -----------------------------------------------------------------------------------------------------


def test_private_subnets_leave_only_through_the_nat_gateway() -> None:
    res = resources()
    routes = {k: v["Properties"] for k, v in res.items() if v["Type"] == "AWS::EC2::Route"}
    associations = {
        (v["Properties"]["SubnetId"]["Ref"], v["Properties"]["RouteTableId"]["Ref"])
        for v in res.values()
        if v["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
    }

    assert associations == {
        ("PublicSubnet", "PublicRouteTable"),
        ("PrivateSubnetA", "PrivateRouteTable"),
        ("PrivateSubnetB", "PrivateRouteTable"),
    }
    by_table = {(r["RouteTableId"]["Ref"], r["DestinationCidrBlock"]): r for r in routes.values()}
    assert by_table.keys() == {("PublicRouteTable", "0.0.0.0/0"), ("PrivateRouteTable", "0.0.0.0/0")}
    assert by_table["PrivateRouteTable", "0.0.0.0/0"]["NatGatewayId"] == _ref("NatGateway")
    assert "GatewayId" not in by_table["PrivateRouteTable", "0.0.0.0/0"], "a private subnet must not reach the IGW"
    assert by_table["PublicRouteTable", "0.0.0.0/0"]["GatewayId"] == _ref("InternetGateway")

    nat = res["NatGateway"]["Properties"]
    assert nat["SubnetId"] == _ref("PublicSubnet")
    assert nat["AllocationId"] == {"Fn::GetAtt": ["EgressIp", "AllocationId"]}
    for subnet in PRIVATE_SUBNETS:
        assert res[subnet]["Properties"].get("MapPublicIpOnLaunch", False) is False
    # Two zones, so Lambda can place the functions while one zone is impaired.
    zones = [res[s]["Properties"]["AvailabilityZone"] for s in PRIVATE_SUBNETS]
    assert zones == [{"Fn::Select": [0, {"Fn::GetAZs": ""}]}, {"Fn::Select": [1, {"Fn::GetAZs": ""}]}]


def test_the_address_tenants_whitelist_outlives_the_stack() -> None:
    eip = resources()["EgressIp"]
    # Tenants paste it into 企业可信IP; a new address would break every tenant's outbound calls.
    assert (eip["DeletionPolicy"], eip["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert eip["Properties"]["Domain"] == "vpc"


def test_lambda_security_group_admits_nothing_and_sends_only_https() -> None:
    group = resources()["LambdaSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIp"]) for r in group["SecurityGroupEgress"]] == [
        ("tcp", 443, 443, "0.0.0.0/0")
    ]


def test_subnet_ranges_default_inside_the_vpc_and_apart() -> None:
    parameters = load_template("egress")["Parameters"]
    vpc = ipaddress.ip_network(parameters["VpcCidr"]["Default"])
    subnets = [
        ipaddress.ip_network(parameters[p]["Default"])
        for p in ("PublicSubnetCidr", "PrivateSubnetACidr", "PrivateSubnetBCidr")
    ]
    assert all(s.subnet_of(vpc) for s in subnets)
    assert not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])


# --- deployed into moto -----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_stack_outputs_name_a_working_egress() -> None:
    outputs = deploy("egress", "prod")
    ec2 = boto3.client("ec2")
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in boto3.client("cloudformation").describe_stack_resources(StackName=stack_name("prod", "egress"))[
            "StackResources"
        ]
    }

    assert outputs.keys() == {"QunguiEgressIp", "QunguiLambdaSubnetIds", "QunguiLambdaSecurityGroupId", "QunguiVpcId"}
    vpc_id = outputs["QunguiVpcId"]
    vpc_range = ipaddress.ip_network(ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["CidrBlock"])

    # The address to whitelist is the NAT gateway's public address.
    (nat,) = ec2.describe_nat_gateways(NatGatewayIds=[physical["NatGateway"]])["NatGateways"]
    assert [a["PublicIp"] for a in nat["NatGatewayAddresses"]] == [outputs["QunguiEgressIp"]]
    assert (nat["State"], nat["VpcId"], nat["SubnetId"]) == ("available", vpc_id, physical["PublicSubnet"])
    (address,) = ec2.describe_addresses(PublicIps=[outputs["QunguiEgressIp"]])["Addresses"]
    assert address["Domain"] == "vpc"

    # The functions' subnets: two, private, in the VPC, in two zones, and not where the NAT gateway sits.
    subnet_ids = outputs["QunguiLambdaSubnetIds"].split(",")
    assert subnet_ids == [physical[s] for s in PRIVATE_SUBNETS]
    subnets = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    assert {s["VpcId"] for s in subnets} == {vpc_id}
    assert len({s["AvailabilityZone"] for s in subnets}) == 2
    assert all(ipaddress.ip_network(s["CidrBlock"]).subnet_of(vpc_range) for s in subnets)
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)

    (group,) = ec2.describe_security_groups(GroupIds=[outputs["QunguiLambdaSecurityGroupId"]])["SecurityGroups"]
    assert (group["VpcId"], group["IpPermissions"]) == (vpc_id, [])

    # Default routes: private -> NAT gateway, public -> the internet gateway attached to this VPC.
    tables = {t["RouteTableId"]: t for t in ec2.describe_route_tables()["RouteTables"]}
    private_default = [
        r for r in tables[physical["PrivateRouteTable"]]["Routes"] if r["DestinationCidrBlock"] == "0.0.0.0/0"
    ]
    public_default = [
        r for r in tables[physical["PublicRouteTable"]]["Routes"] if r["DestinationCidrBlock"] == "0.0.0.0/0"
    ]
    assert [r.get("NatGatewayId") for r in private_default] == [nat["NatGatewayId"]]
    assert [r.get("GatewayId") for r in public_default] == [physical["InternetGateway"]]
    (gateway,) = ec2.describe_internet_gateways(InternetGatewayIds=[physical["InternetGateway"]])["InternetGateways"]
    assert [(a["VpcId"], a["State"]) for a in gateway["Attachments"]] == [(vpc_id, "available")]
