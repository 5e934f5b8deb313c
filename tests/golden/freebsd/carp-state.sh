# vipd acquires the lease of vhid 20 on vpc2, then loses it
ifconfig vpc2 vhid 20 advskew 0 state master
ifconfig vpc2 vhid 20 advskew 240 state backup
# vipd starts (or restarts) on a node with vhid 30 on vpc3: BACKUP first
ifconfig vpc3 vhid 30 advskew 240 state backup
# apply starts vipd under daemon(8)
daemon -f -r -S -T vpcctl-vipd -P /var/db/vpcctl/vipd-daemon.pid -p /var/db/vpcctl/vipd.pid /usr/local/sbin/vpcctl --state-dir /var/db/vpcctl vipd
