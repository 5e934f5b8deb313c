# attach vm db to vpc1 through tap20003
ifconfig tap20003 create mtu 1430 description vpcctl-guest:vpc1:vm:db up
ifconfig vpc1 addm tap20003
# detach vm db (tap20003)
ifconfig tap20003 destroy
