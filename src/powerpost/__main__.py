from powerpost.cli import main

main()
