# attach jail web to vpc1 through epair20003a
ifconfig epair20003 create
ifconfig epair20003a mtu 1430 description vpcctl-guest:vpc1:jail:web up
ifconfig epair20003b mtu 1430
ifconfig epair20003b ether 02:00:5e:10:00:0a
ifconfig vpc1 addm epair20003a
ifconfig epair20003b vnet web
jexec web ifconfig epair20003b inet 10.100.0.10/24 up
# detach jail web (epair20003a)
ifconfig epair20003a destroy
